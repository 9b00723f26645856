// Stable Diffusion XL for Modular Diffusers: the SDXL blocks, presets and
// pipeline class, with ONNX-backed components. Importing the package registers
// the SDXL component loaders and the 'stable-diffusion-xl' pipeline class.

import { registerSdxlComponentLoaders } from './components/register-loaders.js';

export * from './components/local-folder-resolver.js';
export * from './components/clip-text-model.js';
export * from './components/clip-text-model-loaders.js';
export * from './components/autoencoder-kl.js';
export * from './components/autoencoder-kl-loader.js';
export * from './components/simple-loaders.js';
export * from './components/component-specs.js';
export * from './components/register-loaders.js';
export * from './components/model-capability-error.js';
export * from './components/unet.js';
export * from './components/controlnet.js';
export * from './components/image-encoder.js';
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

export * from './ip-adapter/clip-image-processor.js';
export * from './ip-adapter/ip-adapter-step.js';
export * from './ip-adapter/auto-ip-adapter-step.js';
export * from './ip-adapter/load-ip-adapter.js';

export * from './presets.js';
export * from './auto-presets.js';
export * from './pipeline/sdxl-pipeline-properties.js';
export * from './pipeline/sdxl-modular-pipeline.js';

registerSdxlComponentLoaders();
