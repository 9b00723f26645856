/** Scheduler classes by diffusers class name, so a scheduler_config.json's `_class_name` picks the class. */
import type { RawConfig } from '../config/config-fields.js';
import { ConfigClassRegistry } from '../config/config-class-registry.js';
import { DDIMScheduler } from './ddim-scheduler.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep-scheduler.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete-scheduler.js';
import { EulerDiscreteScheduler } from './euler-discrete-scheduler.js';
import type { Scheduler, SchedulerClass } from './scheduler.js';

export class SchedulerRegistry extends ConfigClassRegistry<Scheduler, SchedulerClass> {
  constructor(classes: readonly SchedulerClass[] = []) {
    super('scheduler', classes);
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
