// The sandbox-safe part of @modular-diffusers/sdxl: blocks, presets and the pipeline
// class, without the ONNX/sharp component wrappers and loaders. Bundled into the
// remote-code sandbox's libraries by @modular-diffusers/sandbox (its build and, from source, its first use).
export * from './errors.js';

export * from './encoders/encode-vae-image.js';
export * from './encoders/text-encoder-step.js';
export * from './encoders/vae-encoder-step.js';
export * from './encoders/inpaint-vae-encoder-step.js';

export { guidanceScaleEmbedding } from './before-denoise/add-time-ids.js';
export * from './before-denoise/input-step.js';
export * from './before-denoise/set-timesteps-step.js';
export * from './before-denoise/img2img-set-timesteps-step.js';
export * from './before-denoise/prepare-latents-step.js';
export * from './before-denoise/img2img-prepare-latents-step.js';
export * from './before-denoise/inpaint-prepare-latents-step.js';
export * from './before-denoise/prepare-additional-conditioning-step.js';
export * from './before-denoise/img2img-prepare-additional-conditioning-step.js';

export * from './decoders/decode-step.js';
export * from './decoders/inpaint-overlay-mask-step.js';
export * from './decoders/inpaint-decode-step.js';

export * from './denoise/denoise-loop-wrapper.js';
export * from './denoise/loop-before-denoiser.js';
export * from './denoise/loop-denoiser.js';
export * from './denoise/controlnet-loop-denoiser.js';
export * from './denoise/loop-after-denoiser.js';
export * from './denoise/inpaint-loop-before-denoiser.js';
export * from './denoise/inpaint-loop-after-denoiser.js';
export * from './denoise/denoise-steps.js';
export { SDXL_GUIDER_FIELDS, stackGuiderConditions, combineGuidedPrediction, repeatForConditions, type StackedConditions, type GuidedInputName } from './denoise/guider-batches.js';
export { LOOP_STEP_NOTE, timestepList, noiseSource } from './denoise/loop-params.js';

export * from './controlnet/controlnet-input-step.js';
export * from './controlnet/controlnet-union-input-step.js';
export * from './controlnet/controlnet-auto-input.js';
export { controlnetKeep, controlImageProcessorSpec } from './controlnet/controlnet-inputs.js';

export * from './ip-adapter/ip-adapter-step.js';
export * from './ip-adapter/auto-ip-adapter-step.js';

export * from './presets.js';
export * from './auto-presets.js';
export * from './pipeline/sdxl-pipeline-properties.js';
export * from './pipeline/sdxl-modular-pipeline.js';
export type { SdxlPipelineOutputs } from './pipeline/sdxl-outputs.js';
export type { SdxlPipelineInputs } from './pipeline/sdxl-inputs.js';
export * from './pipeline/sdxl-run-memory.js';
export { sdxlBlocksFamily } from './sdxl-blocks-family.js';
