/**
 * Scheduler classes by diffusers class name, so a scheduler_config.json's
 * `_class_name` picks the class. Loading the JSON file is the caller's job:
 * this package takes parsed config objects and never touches the disk.
 */
import type { RawConfig } from '../config/config-fields.js';
import { ComponentConfigError } from '../errors.js';
import { DDIMScheduler } from './ddim-scheduler.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep-scheduler.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete-scheduler.js';
import { EulerDiscreteScheduler } from './euler-discrete-scheduler.js';
import type { Scheduler, SchedulerClass } from './scheduler.js';

export class SchedulerRegistry {
  private readonly classes = new Map<string, SchedulerClass>();

  constructor(classes: readonly SchedulerClass[] = []) {
    for (const cls of classes) this.register(cls);
  }

  /** Add (or replace) a class under its `className`; plugins register their own schedulers this way. */
  register(cls: SchedulerClass): this {
    this.classes.set(cls.className, cls);
    return this;
  }

  has(className: string): boolean {
    return this.classes.has(className);
  }

  names(): string[] {
    return [...this.classes.keys()];
  }

  get(className: string): SchedulerClass {
    const cls = this.classes.get(className);
    if (!cls) {
      throw new ComponentConfigError(
        `Unknown scheduler class '${className}'. Registered: ${this.names().join(', ')}. ` +
          `Pick one of those (pass { className }), or register the class first.`,
        className,
        '_class_name',
        'unknown-class',
      );
    }
    return cls;
  }

  /**
   * Build a scheduler from a parsed scheduler_config.json. The class is
   * `options.className` when given (swapping schedulers on the same
   * config), else the config's `_class_name`.
   */
  fromConfig(config: RawConfig, options: { className?: string; overrides?: RawConfig } = {}): Scheduler {
    const className = options.className ?? config?._class_name;
    if (typeof className !== 'string') {
      throw new ComponentConfigError(
        `This scheduler config has no \`_class_name\`; pass { className: '${this.names()[0]}' } to choose the scheduler.`,
        'unknown',
        '_class_name',
        'unknown-class',
      );
    }
    return this.get(className).fromConfig(config, options.overrides ?? {});
  }
}

/** The schedulers this package ships. */
export const schedulerRegistry = new SchedulerRegistry([
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  DPMSolverMultistepScheduler,
  DDIMScheduler,
]);

export function schedulerFromConfig(config: RawConfig, options?: { className?: string; overrides?: RawConfig }): Scheduler {
  return schedulerRegistry.fromConfig(config, options);
}
