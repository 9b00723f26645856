import { installPipelineLoaderAliases } from '../compat/pipeline-loader-compat.js';
import type { LoadComponentsOptions, LoadReport, ModularPipeline } from './modular-pipeline.js';

/**
 * `pipeline.loader`: the loading methods in one place, as the guide uses them
 * (`dd_pipeline.loader.load(...)`, whose alias lives in compat/). A model family extends it (the SDXL
 * pipeline adds `loadIpAdapter` / `setIpAdapterScale`) by overriding
 * `ModularPipeline.createLoader()`.
 */
export class PipelineLoader<P extends ModularPipeline = ModularPipeline> {
  constructor(readonly pipeline: P) {}

  loadComponents(names?: string | readonly string[] | null, options: LoadComponentsOptions = {}): Promise<LoadReport> {
    return this.pipeline.loadComponents(names, options);
  }

  updateComponents(updates: Record<string, unknown>): void {
    this.pipeline.updateComponents(updates);
  }

  unloadComponents(names: string | readonly string[]): void {
    this.pipeline.unloadComponents(names);
  }

  get components(): Record<string, unknown> {
    return this.pipeline.components;
  }
}

installPipelineLoaderAliases(PipelineLoader.prototype);
