/**
 * The sandbox-safe half of the SDXL family: the pipeline class, the blocks classes a saved index
 * can name, the default blocks of a standard SDXL repo and the run-memory estimator. It reads no
 * file, so the plugin sandbox registers it on its own copy of core; on the host, register `sdxl`
 * (sdxl-family.ts), which includes it and adds the loaders.
 */
import type { ModelFamily } from '@modular-diffusers/core';
import { SDXL_NAMED_BLOCKS_CLASSES, StableDiffusionXLAutoBlocks } from './auto-presets.js';
import { StableDiffusionXLModularPipeline } from './pipeline/sdxl-modular-pipeline.js';
import { estimateSdxlRunMemory } from './pipeline/sdxl-run-memory.js';

export const sdxlBlocksFamily: ModelFamily = Object.freeze({
  name: 'sdxl-blocks',
  modelName: 'stable-diffusion-xl',
  pipelineClass: StableDiffusionXLModularPipeline,
  // The `_class_name` of a standard SDXL model_index.json, as diffusers' auto-pipeline lookup maps them.
  pipelineClassNames: [
    'StableDiffusionXLPipeline',
    'StableDiffusionXLImg2ImgPipeline',
    'StableDiffusionXLInpaintPipeline',
    'StableDiffusionXLControlNetPipeline',
    'StableDiffusionXLModularPipeline',
  ],
  blocksClasses: SDXL_NAMED_BLOCKS_CLASSES,
  defaultBlocksClass: StableDiffusionXLAutoBlocks,
  runMemoryEstimator: estimateSdxlRunMemory,
});
