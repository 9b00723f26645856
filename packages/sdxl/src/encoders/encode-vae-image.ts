/**
 * Image -> UNet-space latents: the VAE encoder's latents, scaled by the
 * config's `scaling_factor`, or normalised with `latents_mean`/`latents_std`
 * when the config has them (diffusers' `_encode_vae_image`).
 */
import { add, div, mul, scale, sub, type Tensor } from '@modular-diffusers/runtime';
import type { AutoencoderKL, VaeEncodeOptions } from '../components/autoencoder-kl.js';
import { SdxlInputError } from '../errors.js';

export async function encodeVaeImage(vae: AutoencoderKL | null | undefined, image: Tensor<'float32'>, options: VaeEncodeOptions = {}): Promise<Tensor<'float32'>> {
  if (!vae) throw new SdxlInputError('No vae is loaded; run pipeline.loadComponents() (the VAE encoder step needs vae_encoder/).');
  const latents = await vae.encode(image, options);
  const stats = vae.latentsMeanStd;
  if (stats) return div(scale(sub(latents, stats.mean), vae.scalingFactor), stats.std);
  return scale(latents, vae.scalingFactor);
}

/** The inverse, before decoding: latents / scaling_factor, or latents * std / scaling_factor + mean. */
export function unscaleLatents(vae: AutoencoderKL, latents: Tensor<'float32'>): Tensor<'float32'> {
  const stats = vae.latentsMeanStd;
  if (stats) return add(div(mul(latents, stats.std), vae.scalingFactor), stats.mean);
  return div(latents, vae.scalingFactor);
}
