/**
 * The SDXL values blocks read from the loaded components, with diffusers'
 * defaults when a component is not loaded: the VAE scale factor (8), latent
 * channels (4), the UNet's input channels (4, or 9 when inpainting) and its
 * default sample size (128 latents = 1024 pixels). The pipeline class
 * exposes them as properties; blocks call these so they also work when run
 * by a plain ModularPipeline.
 */
import type { ModularPipeline } from '@modular-diffusers/core';

function component(components: ModularPipeline, name: string): { config?: Record<string, unknown> } | null {
  return components.componentNames?.includes?.(name) ? (components.getComponent(name) as { config?: Record<string, unknown> } | null) : null;
}

function configValue(components: ModularPipeline, name: string, key: string): unknown {
  return component(components, name)?.config?.[key];
}

export function vaeScaleFactor(components: ModularPipeline): number {
  const blocks = configValue(components, 'vae', 'block_out_channels');
  return Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
}

export function numChannelsLatents(components: ModularPipeline): number {
  const value = configValue(components, 'vae', 'latent_channels');
  return typeof value === 'number' ? value : 4;
}

export function numChannelsUnet(components: ModularPipeline): number {
  const value = configValue(components, 'unet', 'in_channels');
  return typeof value === 'number' ? value : 4;
}

export function defaultSampleSize(components: ModularPipeline): number {
  const value = configValue(components, 'unet', 'sample_size');
  return typeof value === 'number' ? value : 128;
}

/** The float type the UNet computes in: what `dtype` means in SDXL block states. */
export function unetDtype(components: ModularPipeline): 'float32' | 'float16' {
  const unet = component(components, 'unet') as { dtype?: unknown } | null;
  return unet?.dtype === 'float16' ? 'float16' : 'float32';
}
