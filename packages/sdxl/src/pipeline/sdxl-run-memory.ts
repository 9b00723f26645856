/**
 * How much memory an SDXL run's tensors take, estimated from its inputs before anything is
 * allocated (core's checkRunMemory compares it with `maxMemory`). float32 throughout, B images of
 * H x W pixels, latents of H/f x W/f (f the VAE scale factor), classifier-free guidance doubling the
 * UNet batch:
 *   latents and their step copies   8 x B x C_latent x H/f x W/f x 4
 *   UNet activations (first block)  4 x 2B x C_unet0 x H/f x W/f x 4   (C_unet0: block_out_channels[0], 320)
 *   VAE decoder activations         3 x B x C_vae0 x H x W x 4          (C_vae0: block_out_channels[0], 128)
 *   decoded images                  B x 3 x H x W x (4 + 4 + 1)         (the decoded tensor, its
 *                                                                       postprocessed copy, the RGB bytes)
 * For SDXL at 1024x1024 that is about 1.8 GB; it grows with the pixel count.
 */
import { type ModularPipeline, type PipelineState, type RunMemoryEstimate } from '@modular-diffusers/core';
import { defaultSampleSize, numChannelsLatents, vaeScaleFactor } from './sdxl-pipeline-properties.js';

function firstChannels(components: ModularPipeline, name: string, fallback: number): number {
  const spec = components.componentNames?.includes?.(name) ? (components.getComponent(name) as { config?: Record<string, unknown> } | null) : null;
  const channels = spec?.config?.block_out_channels;
  return Array.isArray(channels) && typeof channels[0] === 'number' ? channels[0] : fallback;
}

function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** The input image's size, when an image (or the first of a list) is given. */
function imageSize(value: unknown): { width: number; height: number } | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === null || typeof first !== 'object') return null;
  const { width, height } = first as { width?: unknown; height?: unknown };
  return positive(width) && positive(height) ? { width: width as number, height: height as number } : null;
}

function promptCount(prompt: unknown): number {
  return Array.isArray(prompt) && prompt.length > 0 ? prompt.length : 1;
}

export function estimateSdxlRunMemory(components: ModularPipeline, state: PipelineState): RunMemoryEstimate {
  const factor = vaeScaleFactor(components);
  const image = imageSize(state.get('image'));
  const fallback = defaultSampleSize(components) * factor;
  const height = positive(state.get('height')) ?? image?.height ?? fallback;
  const width = positive(state.get('width')) ?? image?.width ?? fallback;
  const batch = promptCount(state.get('prompt')) * (positive(state.get('num_images_per_prompt')) ?? 1);
  const pixels = height * width;
  const latentPixels = Math.ceil(height / factor) * Math.ceil(width / factor);
  const parts = [
    { what: 'VAE decoder activations', bytes: 3 * batch * firstChannels(components, 'vae', 128) * pixels * 4 },
    { what: 'decoded images', bytes: batch * 3 * pixels * 9 },
    { what: 'UNet activations', bytes: 4 * 2 * batch * firstChannels(components, 'unet', 320) * latentPixels * 4 },
    { what: 'latents', bytes: 8 * batch * numChannelsLatents(components) * latentPixels * 4 },
  ].sort((a, b) => b.bytes - a.bytes);
  return {
    bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
    parts,
    shape: `${batch} image${batch === 1 ? '' : 's'} of ${width}x${height}`,
  };
}

