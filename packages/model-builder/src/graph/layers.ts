/**
 * The layers diffusers and transformers models are made of, as ONNX
 * subgraphs over a ModelGraph, each taking its weights by the module path
 * torch gives them (`prefix.weight`, `prefix.bias`). `fused` picks
 * onnxruntime's contrib MultiHeadAttention; without it attention is plain
 * MatMul/Softmax. Both are checked against diffusers' outputs.
 */
import { CONTRIB_DOMAIN, type ModelGraph } from './model-graph.js';

export interface LayerOptions {
  /** Use com.microsoft MultiHeadAttention (else plain ops). */
  readonly fused: boolean;
}

const f = (value: number) => ({ f: value });
const i = (value: number) => ({ i: value });
const ints = (value: readonly number[]) => ({ ints: value });

/**
 * torch.nn.Linear on the last axis: x @ W^T + b. Fused, com.microsoft
 * FusedMatMul reads W [out, in] as stored (transB), so the session holds one
 * copy of it; the plain fallback transposes it (onnxruntime folds that once,
 * at session creation, briefly holding both).
 */
export function linear(g: ModelGraph, x: string, prefix: string, inFeatures: number, outFeatures: number, bias = true): string {
  const w = g.weight(`${prefix}.weight`, [outFeatures, inFeatures]);
  const y = g.layerOptions.fused
    ? g.op('FusedMatMul', [x, w], { transB: i(1), alpha: f(1) }, CONTRIB_DOMAIN)
    : g.op('MatMul', [x, g.op('Transpose', [w], { perm: ints([1, 0]) })]);
  return bias ? g.op('Add', [y, g.weight(`${prefix}.bias`, [outFeatures])]) : y;
}

export function conv2d(
  g: ModelGraph,
  x: string,
  prefix: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  options: { stride?: number; pads?: readonly [number, number, number, number] } = {},
): string {
  const w = g.weight(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel]);
  const b = g.weight(`${prefix}.bias`, [outChannels]);
  const p = Math.floor(kernel / 2);
  return g.op('Conv', [x, w, b], {
    kernel_shape: ints([kernel, kernel]),
    strides: ints([options.stride ?? 1, options.stride ?? 1]),
    pads: ints(options.pads ?? [p, p, p, p]),
  });
}

/** torch.nn.GroupNorm over [N, C, ...]: InstanceNormalization on [N, groups, -1], then the per-channel affine. */
export function groupNorm(g: ModelGraph, x: string, prefix: string, channels: number, groups: number, eps: number): string {
  const gamma = g.weight(`${prefix}.weight`, [channels]);
  const beta = g.weight(`${prefix}.bias`, [channels]);
  const grouped = g.op('Reshape', [x, g.constInt64([0, groups, -1])]);
  const normed = g.op('InstanceNormalization', [grouped, g.constFloat(new Array(groups).fill(1)), g.constFloat(new Array(groups).fill(0))], {
    epsilon: f(eps),
  });
  const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
  const perChannel = g.constInt64([channels, 1, 1]);
  return g.op('Add', [g.op('Mul', [back, g.op('Reshape', [gamma, perChannel])]), g.op('Reshape', [beta, perChannel])]);
}

export function layerNorm(g: ModelGraph, x: string, prefix: string, dim: number, eps: number): string {
  return g.op('LayerNormalization', [x, g.weight(`${prefix}.weight`, [dim]), g.weight(`${prefix}.bias`, [dim])], { axis: i(-1), epsilon: f(eps) });
}

export function silu(g: ModelGraph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** Exact (erf) GELU, as torch's default; onnxruntime fuses the pattern into its Gelu kernel. */
export function gelu(g: ModelGraph, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.constFloat([Math.SQRT1_2], [])])]);
  return g.op('Mul', [g.op('Mul', [x, g.constFloat([0.5], [])]), g.op('Add', [erf, g.constFloat([1], [])])]);
}

/** transformers' QuickGELU: x * sigmoid(1.702 x). */
export function quickGelu(g: ModelGraph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.constFloat([1.702], [])])])]);
}

/**
 * Scaled dot-product attention of q [B, S, heads*headDim] over k, v
 * [B, L, heads*headDim] with an optional additive bias [1, 1, S, L];
 * returns [B, S, heads*headDim].
 */
export function attention(
  g: ModelGraph,
  q: string,
  k: string,
  v: string,
  heads: number,
  headDim: number,
  options: LayerOptions & { bias?: string },
): string {
  const scale = 1 / Math.sqrt(headDim);
  if (options.fused) {
    return g.op('MultiHeadAttention', [q, k, v, '', '', options.bias ?? ''], { num_heads: i(heads), scale: f(scale) }, CONTRIB_DOMAIN);
  }
  const split = g.constInt64([0, 0, heads, headDim]);
  const toHeads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, split])], { perm: ints([0, 2, 1, 3]) });
  const kT = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: ints([0, 2, 3, 1]) });
  let scores = g.op('Mul', [g.op('MatMul', [toHeads(q), kT]), g.constFloat([scale], [])]);
  if (options.bias) scores = g.op('Add', [scores, options.bias]);
  const probs = g.op('Softmax', [scores], { axis: i(-1) });
  const out = g.op('Transpose', [g.op('MatMul', [probs, toHeads(v)])], { perm: ints([0, 2, 1, 3]) });
  return g.op('Reshape', [out, g.constInt64([0, 0, heads * headDim])]);
}
