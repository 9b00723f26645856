/**
 * The guide's spellings on every pipeline, kept working during the
 * deprecation period; installed on `ModularPipeline.prototype` and typed by
 * merging into the class.
 */
import type { LoadComponentsOptions } from '../components/component-load-options.js';
import type { LoadReport } from '../pipeline/modular-pipeline.js';

declare module '../pipeline/modular-pipeline.js' {
  interface ModularPipeline {
    /**
     * Loads every from-pretrained component not loaded yet (the guide's `load_default_components`).
     * @deprecated Use `loadComponents(options)`.
     */
    loadDefaultComponents(options?: LoadComponentsOptions): Promise<LoadReport>;
  }
}

interface PipelinePrototype {
  loadComponents(names: null, options: LoadComponentsOptions): Promise<LoadReport>;
}

/** Installs the old spellings on the class's prototype; called once, by the class's own module. */
export function installModularPipelineAliases(prototype: PipelinePrototype): void {
  Object.defineProperty(prototype, 'loadDefaultComponents', {
    value: function loadDefaultComponents(this: PipelinePrototype, options: LoadComponentsOptions = {}): Promise<LoadReport> {
      return this.loadComponents(null, options);
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });
}
