/**
 * Guider classes by diffusers class name, so a guider_config.json's
 * `_class_name` picks the class.
 */
import type { RawConfig } from '../config/config-fields.js';
import { ComponentConfigError } from '../errors.js';
import { AdaptiveProjectedGuidance } from './adaptive-projected-guidance.js';
import { ClassifierFreeGuidance } from './classifier-free-guidance.js';
import { ClassifierFreeZeroStarGuidance } from './classifier-free-zero-star-guidance.js';
import type { Guider } from './guider.js';

export interface GuiderClass {
  readonly className: string;
  fromConfig(config?: RawConfig, overrides?: RawConfig): Guider;
}

export class GuiderRegistry {
  private readonly classes = new Map<string, GuiderClass>();

  constructor(classes: readonly GuiderClass[] = []) {
    for (const cls of classes) this.register(cls);
  }

  register(cls: GuiderClass): this {
    this.classes.set(cls.className, cls);
    return this;
  }

  has(className: string): boolean {
    return this.classes.has(className);
  }

  names(): string[] {
    return [...this.classes.keys()];
  }

  get(className: string): GuiderClass {
    const cls = this.classes.get(className);
    if (!cls) {
      throw new ComponentConfigError(
        `Unknown guider class '${className}'. Registered: ${this.names().join(', ')}. ` +
          `Hook-based guiders (PAG, SLG, SEG, AutoGuidance) need denoiser hooks this port does not have.`,
        className,
        '_class_name',
        'unknown-class',
      );
    }
    return cls;
  }

  /** Build a guider from a parsed guider_config.json (class from `_class_name` unless `className` is given). */
  fromConfig(config: RawConfig, options: { className?: string; overrides?: RawConfig } = {}): Guider {
    const className = options.className ?? config?._class_name;
    if (typeof className !== 'string') {
      throw new ComponentConfigError(
        `This guider config has no \`_class_name\`; pass { className: 'ClassifierFreeGuidance' } to choose the guider.`,
        'unknown',
        '_class_name',
        'unknown-class',
      );
    }
    return this.get(className).fromConfig(config, options.overrides ?? {});
  }
}

export const guiderRegistry = new GuiderRegistry([
  ClassifierFreeGuidance,
  ClassifierFreeZeroStarGuidance,
  AdaptiveProjectedGuidance,
]);

export function guiderFromConfig(config: RawConfig, options?: { className?: string; overrides?: RawConfig }): Guider {
  return guiderRegistry.fromConfig(config, options);
}
