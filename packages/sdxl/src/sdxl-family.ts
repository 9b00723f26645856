/**
 * Stable Diffusion XL as a model family value: `registerFamily(sdxl)` (from
 * '@modular-diffusers/core') makes SDXL repos loadable and runnable. It registers the blocks half
 * (sdxl-blocks-family.ts), the ONNX-backed component loaders in the default loader registry, and
 * installs the Node-side pieces the sandbox-safe pipeline class reaches through hooks: the LoRA
 * adapters, the single-file checkpoint loader and the IP-Adapter safetensors loader.
 * Importing '@modular-diffusers/sdxl' registers nothing.
 */
import type { ModelFamily } from '@modular-diffusers/core';
import { sdxlComponentLoaders } from './components/register-loaders.js';
import { loadIpAdapterWeights } from './ip-adapter/load-ip-adapter-weights.js';
import { setIpAdapterWeightsLoader } from './ip-adapter/load-ip-adapter.js';
import { SdxlLoraAdapters } from './lora/lora-adapters.js';
import { installSdxlLoraAdapters } from './pipeline/sdxl-modular-pipeline.js';
import { loadSingleFile } from './single-file/load-single-file.js';
import { installSingleFileLoader } from './single-file/single-file-hook.js';
import { sdxlBlocksFamily } from './sdxl-blocks-family.js';

export const sdxl: ModelFamily = Object.freeze({
  ...sdxlBlocksFamily,
  name: 'sdxl',
  componentLoaders: sdxlComponentLoaders,
  install(): void {
    setIpAdapterWeightsLoader(loadIpAdapterWeights);
    installSingleFileLoader(loadSingleFile);
    installSdxlLoraAdapters((host) => new SdxlLoraAdapters(host));
  },
});
