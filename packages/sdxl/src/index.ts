// Stable Diffusion XL for Modular Diffusers: the SDXL blocks, presets and
// pipeline class, with ONNX-backed components. Importing the package registers
// nothing: `registerFamily(sdxl)` (core) registers the loaders, blocks classes and
// the 'stable-diffusion-xl' pipeline class.

export { sdxl } from './sdxl-family.js';

// The ONNX/sharp-backed components and their loaders (host only).
export * from './components/local-folder-resolver.js';
export * from './components/clip-text-model.js';
export * from './components/clip-text-model-loaders.js';
export * from './components/autoencoder-kl.js';
export * from './components/autoencoder-kl-loader.js';
export * from './components/simple-loaders.js';
export * from './components/component-specs.js';
export * from './components/register-loaders.js';
export * from './components/model-capability-error.js';
export * from './components/float16-overflow-error.js';
export * from './components/unet.js';
export * from './components/controlnet.js';
export * from './components/image-encoder.js';
export * from './ip-adapter/clip-image-processor.js';
export * from './ip-adapter/load-ip-adapter.js';
export * from './single-file/load-single-file.js';
export * from './single-file/sdxl-base-configs.js';
export * from './single-file/single-file-checkpoint-error.js';
export * from './single-file/single-file-options.js';
export { installSingleFileLoader, type SingleFileLoader } from './single-file/single-file-hook.js';
export * from './lora/lora-errors.js';
export * from './lora/lora-file.js';
export * from './lora/lora-layers.js';
export * from './lora/lora-targets.js';
export * from './lora/lora-fusion.js';
export * from './lora/kohya-names.js';
export * from './lora/lora-adapters.js';
export * from './ip-adapter/ip-adapter-load-error.js';
export * from './ip-adapter/ip-adapter-block-scales.js';
export * from './ip-adapter/load-ip-adapter-weights.js';

// The blocks, presets and pipeline class: the same modules the plugin sandbox gets.
export * from './blocks-entry.js';

export * from './error-codes.js';
