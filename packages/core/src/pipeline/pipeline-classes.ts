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

// diffusers pipeline class names (standard `model_index.json` `_class_name`) by model family, as
// diffusers' auto-pipeline lookup maps them: each family declares its own (`pipelineClassNames`);
// modular pipeline classes registered above are found by name too.
const modelNameByPipelineClassName = new Map<string, string>();

/** Maps a pipeline class name found in a model index to its model family. */
export function registerPipelineClassName(className: string, modelName: string): void {
  modelNameByPipelineClassName.set(className, modelName);
}

/** The model family of a pipeline class name (`StableDiffusionXLPipeline` -> 'stable-diffusion-xl'), if known. */
export function modelNameOfPipelineClass(className: string | null | undefined): string | undefined {
  if (!className) return undefined;
  const known = modelNameByPipelineClassName.get(className);
  if (known) return known;
  for (const [modelName, pipelineClass] of byModelName) if (pipelineClass.name === className) return modelName;
  return undefined;
}
