import type { ModularPipeline, PipelineConstructor } from './modular-pipeline.js';

const byModelName = new Map<string, PipelineConstructor<ModularPipeline>>();

/**
 * Maps a model family to its pipeline class (diffusers' MODULAR_PIPELINE_MAPPING),
 * so `blocks.initPipeline()` builds e.g. the SDXL pipeline with its extra
 * loader methods. The sdxl package registers 'stable-diffusion-xl'.
 */
export function registerPipelineClass(modelName: string, pipelineClass: PipelineConstructor<ModularPipeline>): void {
  byModelName.set(modelName, pipelineClass);
}

export function getPipelineClass(modelName: string | null): PipelineConstructor<ModularPipeline> | undefined {
  return modelName ? byModelName.get(modelName) : undefined;
}
