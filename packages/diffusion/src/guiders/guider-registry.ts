/** Guider classes by diffusers class name, so a guider_config.json's `_class_name` picks the class. */
import type { RawConfig } from '../config/config-fields.js';
import { ConfigClassRegistry, type ConfigClass } from '../config/config-class-registry.js';
import { AdaptiveProjectedGuidance } from './adaptive-projected-guidance.js';
import { ClassifierFreeGuidance } from './classifier-free-guidance.js';
import { ClassifierFreeZeroStarGuidance } from './classifier-free-zero-star-guidance.js';
import type { Guider } from './guider.js';

export type GuiderClass = ConfigClass<Guider>;

export class GuiderRegistry extends ConfigClassRegistry<Guider> {
  constructor(classes: readonly GuiderClass[] = []) {
    super('guider', classes, 'Hook-based guiders (PAG, SLG, SEG, AutoGuidance) need denoiser hooks this port does not have.');
  }
}

export const guiderRegistry = new GuiderRegistry([ClassifierFreeGuidance, ClassifierFreeZeroStarGuidance, AdaptiveProjectedGuidance]);

export function guiderFromConfig(config: RawConfig, options?: { className?: string; overrides?: RawConfig }): Guider {
  return guiderRegistry.fromConfig(config, options);
}
