/**
 * Makes every SDXL component type loadable: registers the ONNX-backed model
 * loaders (text encoders, VAE, UNet, ControlNet, image encoder), the CLIP
 * tokenizer, the schedulers and guiders by diffusers class name, and the
 * image processors, in a core ComponentLoaderRegistry. `registerFamily(sdxl)`
 * registers them in `defaultLoaderRegistry`; call this for a registry of your own.
 */
import { defaultLoaderRegistry, type ComponentLoader, type ComponentLoaderRegistry } from '@modular-diffusers/core';
import { autoencoderKLLoader } from './autoencoder-kl-loader.js';
import { clipTextModelLoaders } from './clip-text-model-loaders.js';
import { clipTokenizerLoader, guiderLoaders, schedulerLoaders, vaeImageProcessorLoader } from './simple-loaders.js';
import { CONTROLNET_LOADERS } from './controlnet.js';
import { IMAGE_ENCODER_LOADERS } from './image-encoder.js';
import { UNET_LOADERS } from './unet.js';
import { loadIpAdapterWeights } from '../ip-adapter/load-ip-adapter-weights.js';
import { setIpAdapterWeightsLoader } from '../ip-adapter/load-ip-adapter.js';

/** Every loader this package provides, in registration order. */
export function sdxlComponentLoaders(): ComponentLoader[] {
  return [
    ...clipTextModelLoaders,
    clipTokenizerLoader,
    autoencoderKLLoader,
    ...UNET_LOADERS,
    ...CONTROLNET_LOADERS,
    ...IMAGE_ENCODER_LOADERS,
    vaeImageProcessorLoader,
    ...schedulerLoaders(),
    ...guiderLoaders(),
  ];
}

/** Registers the loaders in `registry`, and installs the Node-side IP-Adapter safetensors loader `pipeline.loader.loadIpAdapter` uses. */
export function registerSdxlComponentLoaders(registry: ComponentLoaderRegistry = defaultLoaderRegistry): ComponentLoaderRegistry {
  setIpAdapterWeightsLoader(loadIpAdapterWeights);
  for (const loader of sdxlComponentLoaders()) registry.register(loader);
  return registry;
}
