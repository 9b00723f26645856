/**
 * Makes every SDXL component type loadable: registers the ONNX-backed model
 * loaders (text encoders, VAE, UNet, ControlNet, image encoder), the CLIP
 * tokenizer, the schedulers and guiders by diffusers class name, and the
 * image processors, in a core ComponentLoaderRegistry. Importing
 * '@modular-diffusers/sdxl' registers them in `defaultLoaderRegistry`; call
 * this for a registry of your own.
 */
import { defaultLoaderRegistry, type ComponentLoader, type ComponentLoaderRegistry } from '@modular-diffusers/core';
import { autoencoderKLLoader } from './autoencoder-kl-loader.js';
import { clipTextModelLoaders } from './clip-text-model-loaders.js';
import { clipTokenizerLoader, guiderLoaders, schedulerLoaders, vaeImageProcessorLoader } from './simple-loaders.js';
import { CONTROLNET_LOADERS } from './controlnet.js';
import { IMAGE_ENCODER_LOADERS } from './image-encoder.js';
import { UNET_LOADERS } from './unet.js';

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

export function registerSdxlComponentLoaders(registry: ComponentLoaderRegistry = defaultLoaderRegistry): ComponentLoaderRegistry {
  for (const loader of sdxlComponentLoaders()) registry.register(loader);
  return registry;
}
