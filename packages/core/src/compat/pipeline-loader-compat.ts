/**
 * The guide's `pipeline.loader.load(...)` (`dd_pipeline.loader.load(torch_dtype=...)`), kept
 * working during the deprecation period; installed on `PipelineLoader.prototype` and typed by
 * merging into the class.
 */
import type { LoadComponentsOptions } from '../components/component-load-options.js';
import type { LoadReport } from '../pipeline/modular-pipeline.js';

declare module '../pipeline/pipeline-loader.js' {
  interface PipelineLoader {
    /**
     * Loads every from-pretrained component that is not loaded yet.
     * @deprecated Use `loadComponents(null, options)` (or `pipeline.loadComponents(options)`).
     */
    load(options?: LoadComponentsOptions): Promise<LoadReport>;
  }
}

interface LoaderPrototype {
  loadComponents(names: null, options: LoadComponentsOptions): Promise<LoadReport>;
}

/** Installs the old spelling on the class's prototype; called once, by the class's own module. */
export function installPipelineLoaderAliases(prototype: LoaderPrototype): void {
  Object.defineProperty(prototype, 'load', {
    value: function load(this: LoaderPrototype, options: LoadComponentsOptions = {}): Promise<LoadReport> {
      return this.loadComponents(null, options);
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });
}
