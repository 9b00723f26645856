/**
 * The tiny CLIP vision encoder (CLIPVisionModelWithProjection's role for
 * IP-Adapter), ViT-H/14 shaped: 224x224 input, 14x14 patches, 257 tokens of
 * width 1280, 1024-wide image_embeds.
 *
 * image_embeds[0..2] is the image's mean colour as RGB in [-1, 1] (pixel
 * values un-normalised with CLIP's mean/std), which unet_ip_adapter pulls
 * toward; dims 3..1023 are tanh of a random low-rank projection of the mean
 * patch token, so different images differ everywhere.
 */
import { GraphBuilder, type GraphPrecision } from '../onnx/builder/graph-builder.js';
import { layerNorm, lowRankLinear } from './graph-parts.js';
import type { SeededRandom } from './seeded-random.js';
import { IMAGE_EMBED_DIM } from './unet.js';

export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;
export const VISION_HIDDEN = 1280;
export const VISION_IMAGE_SIZE = 224;
export const VISION_PATCH = 14;

export function buildTinyImageEncoder(rng: SeededRandom, options: { precision?: GraphPrecision; rank?: number } = {}): GraphBuilder {
  const rank = options.rank ?? 32;
  const grid = VISION_IMAGE_SIZE / VISION_PATCH;
  const tokens = grid * grid + 1;
  const g = new GraphBuilder('image_encoder', { precision: options.precision });
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 3, VISION_IMAGE_SIZE, VISION_IMAGE_SIZE]);

  // Patch embedding as a rank-limited conv (3x14x14 -> rank -> 1280) to keep the weights small.
  const patchIn = g.constFloat(rng.normal(rank * 3 * VISION_PATCH * VISION_PATCH, 1 / Math.sqrt(3 * VISION_PATCH * VISION_PATCH)), [rank, 3, VISION_PATCH, VISION_PATCH]);
  const patchOut = g.constFloat(rng.normal(VISION_HIDDEN * rank, 1 / Math.sqrt(rank)), [VISION_HIDDEN, rank, 1, 1]);
  const patches = g.op('Conv', [g.op('Conv', [pixels, patchIn], { strides: [VISION_PATCH, VISION_PATCH] }), patchOut]);
  const patchTokens = g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, VISION_HIDDEN, -1])])], { perm: [0, 2, 1] });

  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.constInt64([0]), g.constInt64([1])]);
  const classShape = g.op('Concat', [batch, g.constInt64([1, VISION_HIDDEN])], { axis: 0 });
  const classToken = g.op('Expand', [g.constFloat(rng.normal(VISION_HIDDEN), [1, 1, VISION_HIDDEN]), classShape]);
  const sequence = g.op('Add', [
    g.op('Concat', [classToken, patchTokens], { axis: 1 }),
    g.constFloat(rng.normal(tokens * VISION_HIDDEN, 0.1), [tokens, VISION_HIDDEN]),
  ]);
  const hidden = layerNorm(g, sequence, VISION_HIDDEN);

  const meanPatch = layerNorm(g, g.op('ReduceMean', [g.op('Slice', [hidden, g.constInt64([1]), g.constInt64([tokens]), g.constInt64([1])])], { axes: [1], keepdims: 0 }), VISION_HIDDEN);
  const features = g.op('Tanh', [lowRankLinear(g, meanPatch, VISION_HIDDEN, IMAGE_EMBED_DIM - 3, rank, rng)]);
  const meanPixel = g.op('ReduceMean', [pixels], { axes: [2, 3], keepdims: 0 });
  const rgb01 = g.op('Add', [g.op('Mul', [meanPixel, g.constFloat(CLIP_IMAGE_STD, [1, 3])]), g.constFloat(CLIP_IMAGE_MEAN, [1, 3])]);
  const rgb = g.op('Sub', [g.op('Mul', [rgb01, g.constFloat([2], [])]), g.constFloat([1], [])]);
  g.output('image_embeds', g.op('Concat', [rgb, features], { axis: 1 }), 'float32', ['batch_size', IMAGE_EMBED_DIM]);
  g.output('last_hidden_state', hidden, 'float32', ['batch_size', tokens, VISION_HIDDEN]);
  return g;
}
