/** Graph fragments the tiny models share. */
import type { GraphBuilder } from '../onnx/builder/graph-builder.js';
import type { SeededRandom } from './seeded-random.js';

/** LayerNormalization over the last axis with unit scale and zero shift (CLIP's eps 1e-5). */
export function layerNorm(g: GraphBuilder, x: string, width: number): string {
  const scale = g.constFloat(new Float32Array(width).fill(1));
  const shift = g.constFloat(new Float32Array(width));
  return g.node('LayerNormalization', [x, scale, shift], { attributes: { axis: -1, epsilon: 1e-5 } })[0];
}

/**
 * x · A · B with A [width, rank], B [rank, outWidth]: a dense-looking random
 * linear map at a fraction of the weight bytes, which keeps the repo small.
 */
export function lowRankLinear(g: GraphBuilder, x: string, width: number, outWidth: number, rank: number, rng: SeededRandom): string {
  const a = g.constFloat(rng.normal(width * rank, 1 / Math.sqrt(width)), [width, rank]);
  const b = g.constFloat(rng.normal(rank * outWidth, 1 / Math.sqrt(rank)), [rank, outWidth]);
  return g.op('MatMul', [g.op('MatMul', [x, a]), b]);
}

/** v / sqrt(sum(v^2) + 1e-6) over the last axis; a zero vector stays zero. */
export function l2Normalize(g: GraphBuilder, v: string): string {
  const squares = g.op('ReduceSum', [g.op('Mul', [v, v]), g.constInt64([-1])], { keepdims: 1 });
  return g.op('Div', [v, g.op('Sqrt', [g.op('Add', [squares, g.constFloat([1e-6], [])])])]);
}

/** Nearest-neighbour upsampling of an NCHW tensor by an integer factor. */
export function upsampleNearest(g: GraphBuilder, x: string, factor: number): string {
  return g.op('Resize', [x, '', g.constFloat([1, 1, factor, factor])], { mode: 'nearest' });
}

/** Average pooling of an NCHW tensor over factor x factor blocks. */
export function averagePool(g: GraphBuilder, x: string, factor: number): string {
  return g.op('AveragePool', [x], { kernel_shape: [factor, factor], strides: [factor, factor] });
}

/** A 1x1 convolution: a per-pixel linear map of channels, weight [out, in] row-major. */
export function channelMix(g: GraphBuilder, x: string, weight: Float32Array, outChannels: number, inChannels: number, bias?: readonly number[]): string {
  const w = g.constFloat(weight, [outChannels, inChannels, 1, 1]);
  return g.op('Conv', bias ? [x, w, g.constFloat(bias)] : [x, w]);
}
