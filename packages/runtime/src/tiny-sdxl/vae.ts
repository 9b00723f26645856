/**
 * The tiny SDXL VAE as Optimum's two exports.
 *
 * vae_decoder: sample = upsample8(W · (latent_sample * 0.13025) + bias), the
 *   SDXL latent-preview map (latent-rgb.ts) with nearest x8 upsampling;
 *   RGB in [-1, 1] like the real decoder.
 * vae_encoder: latent = P · (avgpool8(sample) − bias) / 0.13025, P the
 *   least-squares inverse of W, so decode(encode(img)) = 8x8 block means of img.
 */
import { GraphBuilder, type GraphPrecision } from '../onnx/builder/graph-builder.js';
import { averagePool, channelMix, upsampleNearest } from './graph-parts.js';
import { latentToRgbMatrix, rgbToLatentMatrix, SDXL_LATENT_RGB_BIAS, SDXL_SCALING_FACTOR } from './latent-rgb.js';

/** The log-variance `latent_parameters` reports: e^(-30/2) ≈ 3e-7, a practically deterministic posterior. */
export const TINY_VAE_LOGVAR = -30;

export function buildTinyVaeDecoder(options: { precision?: GraphPrecision } = {}): GraphBuilder {
  const g = new GraphBuilder('vae_decoder', options);
  const latent = g.input('latent_sample', 'float32', ['batch_size', 4, 'latent_height', 'latent_width']);
  const scaled = g.op('Mul', [latent, g.constFloat([SDXL_SCALING_FACTOR], [])]);
  const rgb = channelMix(g, scaled, latentToRgbMatrix(), 3, 4, SDXL_LATENT_RGB_BIAS);
  g.output('sample', upsampleNearest(g, rgb, 8), 'float32', ['batch_size', 3, 'height', 'width']);
  return g;
}

export function buildTinyVaeEncoder(
  options: { precision?: GraphPrecision; output?: 'latent_sample' | 'latent_parameters' } = {},
): GraphBuilder {
  const g = new GraphBuilder('vae_encoder', { precision: options.precision });
  const image = g.input('sample', 'float32', ['batch_size', 3, 'height', 'width']);
  const pooled = averagePool(g, image, 8);
  const centred = g.op('Sub', [pooled, g.constFloat(SDXL_LATENT_RGB_BIAS, [1, 3, 1, 1])]);
  const scaled = channelMix(g, centred, rgbToLatentMatrix(), 4, 3);
  const latent = g.op('Div', [scaled, g.constFloat([SDXL_SCALING_FACTOR], [])]);
  const dims = ['batch_size', 4, 'latent_height', 'latent_width'];
  if (options.output === 'latent_parameters') {
    const logvar = g.op('Expand', [g.constFloat([TINY_VAE_LOGVAR], [1, 1, 1, 1]), g.op('Shape', [latent])]);
    g.output('latent_parameters', g.op('Concat', [latent, logvar], { axis: 1 }), 'float32', [
      'batch_size',
      8,
      'latent_height',
      'latent_width',
    ]);
  } else {
    g.output('latent_sample', latent, 'float32', dims);
  }
  return g;
}
