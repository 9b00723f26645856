/**
 * Option keys in the guide's spelling, declared beside the current ones so the closed option
 * checks accept them during the deprecation period.
 */
import type { ComponentsManager } from '../components/components-manager.js';
import { option } from '../util/closed-options.js';

/** Spread into `ModularPipeline.fromPretrained`'s options. */
export const FROM_PRETRAINED_OPTION_ALIASES = {
  /**
   * The developer guide's spelling (`component_manager=`) of `componentsManager`.
   * @deprecated Use `componentsManager`.
   */
  componentManager: option<ComponentsManager | null>(),
};
