/**
 * The pieces diffusers' UNet2DConditionModel and AutoencoderKL share:
 * ResnetBlock2D, Transformer2DModel with BasicTransformerBlock (GEGLU feed
 * forward), Downsample2D / Upsample2D and the sinusoidal Timesteps
 * projection, each reading its weights under diffusers' module names.
 */
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, silu, type LayerOptions } from '../graph/layers.js';
import type { ModelGraph } from '../graph/model-graph.js';

export interface ResnetSpec {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly eps: number;
  /** Channels of the time embedding, null for the VAE's resnets (no `time_emb_proj`). */
  readonly tembChannels: number | null;
  readonly outputScaleFactor?: number;
}

/** ResnetBlock2D with resnet_time_scale_shift 'default'. `temb` is the time embedding before the SiLU. */
export function resnetBlock(g: ModelGraph, x: string, prefix: string, spec: ResnetSpec, temb: string | null): string {
  let h = silu(g, groupNorm(g, x, `${prefix}.norm1`, spec.inChannels, spec.groups, spec.eps));
  h = conv2d(g, h, `${prefix}.conv1`, spec.inChannels, spec.outChannels, 3);
  if (spec.tembChannels !== null && temb !== null) {
    const t = linear(g, silu(g, temb), `${prefix}.time_emb_proj`, spec.tembChannels, spec.outChannels);
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.constInt64([2, 3])])]);
  }
  h = silu(g, groupNorm(g, h, `${prefix}.norm2`, spec.outChannels, spec.groups, spec.eps));
  h = conv2d(g, h, `${prefix}.conv2`, spec.outChannels, spec.outChannels, 3);
  const shortcut = spec.inChannels !== spec.outChannels ? conv2d(g, x, `${prefix}.conv_shortcut`, spec.inChannels, spec.outChannels, 1) : x;
  const sum = g.op('Add', [shortcut, h]);
  const scale = spec.outputScaleFactor ?? 1;
  return scale === 1 ? sum : g.op('Div', [sum, g.constFloat([scale], [])]);
}

/** What a cross-attention hook sees: enough to add an attention of its own (an IP-Adapter's image K/V). */
export interface CrossAttentionSite {
  readonly g: ModelGraph;
  /** Key prefix of this attn2 module, e.g. 'down_blocks.1.attentions.0.transformer_blocks.0.attn2'. */
  readonly prefix: string;
  /** The normalized hidden states the query was projected from, [B, S, dim]. */
  readonly hidden: string;
  /** The projected query, [B, S, heads*headDim]. */
  readonly query: string;
  readonly heads: number;
  readonly headDim: number;
  readonly dim: number;
  readonly layerOptions: LayerOptions;
}

/**
 * Returns a tensor added to attn2's attention output before `to_out`
 * (diffusers' IPAdapterAttnProcessor adds `scale * attn(q, ip_k, ip_v)` there), or null.
 */
export type CrossAttentionHook = (site: CrossAttentionSite) => string | null;

export interface TransformerSpec {
  readonly channels: number;
  readonly heads: number;
  readonly headDim: number;
  readonly layers: number;
  readonly crossAttentionDim: number;
  readonly groups: number;
  readonly useLinearProjection: boolean;
  readonly crossAttentionHook?: CrossAttentionHook | undefined;
}

/** Transformer2DModel (continuous input) over [B, C, H, W]. */
export function transformer2d(g: ModelGraph, x: string, prefix: string, spec: TransformerSpec, context: string, options: LayerOptions): string {
  const inner = spec.heads * spec.headDim;
  const c = spec.channels;
  const shape = g.op('Shape', [x]);
  let h = groupNorm(g, x, `${prefix}.norm`, c, spec.groups, 1e-6);
  const toTokens = (value: string) => g.op('Reshape', [g.op('Transpose', [value], { perm: { ints: [0, 2, 3, 1] } }), g.constInt64([0, -1, spec.useLinearProjection ? c : inner])]);
  if (spec.useLinearProjection) h = linear(g, toTokens(h), `${prefix}.proj_in`, c, inner);
  else h = toTokens(conv2d(g, h, `${prefix}.proj_in`, c, inner, 1, { pads: [0, 0, 0, 0] }));

  for (let b = 0; b < spec.layers; b++) {
    const bp = `${prefix}.transformer_blocks.${b}`;
    const n1 = layerNorm(g, h, `${bp}.norm1`, inner, 1e-5);
    const self = attention(g, linear(g, n1, `${bp}.attn1.to_q`, inner, inner, false), linear(g, n1, `${bp}.attn1.to_k`, inner, inner, false),
      linear(g, n1, `${bp}.attn1.to_v`, inner, inner, false), spec.heads, spec.headDim, options);
    h = g.op('Add', [linear(g, self, `${bp}.attn1.to_out.0`, inner, inner), h]);

    const n2 = layerNorm(g, h, `${bp}.norm2`, inner, 1e-5);
    const q = linear(g, n2, `${bp}.attn2.to_q`, inner, inner, false);
    const k = linear(g, context, `${bp}.attn2.to_k`, spec.crossAttentionDim, inner, false);
    const v = linear(g, context, `${bp}.attn2.to_v`, spec.crossAttentionDim, inner, false);
    let cross = attention(g, q, k, v, spec.heads, spec.headDim, options);
    const extra = spec.crossAttentionHook?.({ g, prefix: `${bp}.attn2`, hidden: n2, query: q, heads: spec.heads, headDim: spec.headDim, dim: inner, layerOptions: options });
    if (extra) cross = g.op('Add', [cross, extra]);
    h = g.op('Add', [linear(g, cross, `${bp}.attn2.to_out.0`, inner, inner), h]);

    const n3 = layerNorm(g, h, `${bp}.norm3`, inner, 1e-5);
    const ffInner = inner * 4;
    const projected = linear(g, n3, `${bp}.ff.net.0.proj`, inner, ffInner * 2);
    const [value, gate] = g.opN('Split', [projected, g.constInt64([ffInner, ffInner])], 2, { axis: { i: -1 } });
    const ff = linear(g, g.op('Mul', [value!, gelu(g, gate!)]), `${bp}.ff.net.2`, ffInner, inner);
    h = g.op('Add', [ff, h]);
  }

  const toImage = (value: string, channels: number) => {
    const batchHw = g.op('Concat', [g.op('Slice', [shape, g.constInt64([0]), g.constInt64([1])]), g.constInt64([channels]), g.op('Slice', [shape, g.constInt64([2]), g.constInt64([4])])], { axis: { i: 0 } });
    return g.op('Reshape', [g.op('Transpose', [value], { perm: { ints: [0, 2, 1] } }), batchHw]);
  };
  const out = spec.useLinearProjection
    ? toImage(linear(g, h, `${prefix}.proj_out`, inner, c), c)
    : conv2d(g, toImage(h, inner), `${prefix}.proj_out`, inner, c, 1, { pads: [0, 0, 0, 0] });
  return g.op('Add', [out, x]);
}

/** Downsample2D with a convolution: stride 2; `padding` 0 means diffusers' asymmetric (0, 1, 0, 1) pad. */
export function downsample(g: ModelGraph, x: string, prefix: string, channels: number, padding: number): string {
  const pads: [number, number, number, number] = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
  return conv2d(g, x, `${prefix}.conv`, channels, channels, 3, { stride: 2, pads });
}

/** Upsample2D with a convolution: nearest-neighbour x2 (torch's 'nearest'), then a 3x3 conv. */
export function upsample(g: ModelGraph, x: string, prefix: string, channels: number): string {
  const up = g.op('Resize', [x, '', g.constFloat([1, 1, 2, 2])], {
    mode: { s: 'nearest' },
    coordinate_transformation_mode: { s: 'asymmetric' },
    nearest_mode: { s: 'floor' },
  });
  return conv2d(g, up, `${prefix}.conv`, channels, channels, 3);
}

/**
 * diffusers' get_timestep_embedding for a [N] float tensor: the frequency
 * table is computed here in float32 steps as torch does, the products and
 * sin/cos in the graph.
 */
export function timestepProjection(g: ModelGraph, timesteps: string, dim: number, flipSinToCos: boolean, freqShift: number): string {
  const half = Math.floor(dim / 2);
  const freqs = new Float32Array(half);
  const logPeriod = Math.fround(-Math.log(10000));
  for (let i = 0; i < half; i++) freqs[i] = Math.fround(Math.exp(Math.fround(Math.fround(logPeriod * i) / (half - freqShift))));
  const args = g.op('Mul', [g.op('Unsqueeze', [timesteps, g.constInt64([1])]), g.constFloat(freqs, [1, half])]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  let emb = g.op('Concat', flipSinToCos ? [cos, sin] : [sin, cos], { axis: { i: -1 } });
  if (dim % 2 === 1) emb = g.op('Pad', [emb, g.constInt64([0, 0, 0, 1])]);
  return emb;
}
