/**
 * What transformers' CLIP text and vision towers share: the config fields
 * of CLIPEncoder and its pre-norm layers (layer_norm1, self-attention with
 * q/k/v/out projections scaled by head_dim**-0.5, layer_norm2, fc1, the
 * `hidden_act` activation, fc2; each with its residual), read under
 * transformers' module names `<prefix>.encoder.layers.<i>`.
 */
import type { ConfigReader } from './config-reader.js';
import { attention, gelu, layerNorm, linear, quickGelu, type LayerOptions } from '../graph/layers.js';
import type { ModelGraph } from '../graph/model-graph.js';

export interface ClipEncoderSpec {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly eps: number;
  readonly act: 'quick_gelu' | 'gelu';
}

/** The CLIPEncoder fields of a text or vision config, checked (transformers' defaults where it has them). */
export function readClipEncoderSpec(c: ConfigReader): ClipEncoderSpec {
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  if (hidden % heads !== 0) c.fail('num_attention_heads', `(${heads}) must divide hidden_size (${hidden}).`);
  return {
    hidden,
    layers: c.int('num_hidden_layers'),
    heads,
    intermediate: c.int('intermediate_size'),
    eps: c.number('layer_norm_eps', 1e-5),
    act: c.oneOf('hidden_act', ['quick_gelu', 'gelu'] as const, 'quick_gelu'),
  };
}

/**
 * Runs `x` [B, S, hidden] through every encoder layer; returns the input
 * followed by each layer's output (transformers' `hidden_states`). `bias`
 * is an additive attention mask [1, 1, S, S] (the text tower's causal one).
 */
export function clipEncoder(g: ModelGraph, x: string, prefix: string, spec: ClipEncoderSpec, options: LayerOptions, bias?: string): string[] {
  const { hidden, intermediate, eps } = spec;
  const headDim = hidden / spec.heads;
  const states = [x];
  for (let l = 0; l < spec.layers; l++) {
    const lp = `${prefix}.encoder.layers.${l}`;
    const h = layerNorm(g, x, `${lp}.layer_norm1`, hidden, eps);
    const q = linear(g, h, `${lp}.self_attn.q_proj`, hidden, hidden);
    const k = linear(g, h, `${lp}.self_attn.k_proj`, hidden, hidden);
    const v = linear(g, h, `${lp}.self_attn.v_proj`, hidden, hidden);
    const attn = attention(g, q, k, v, spec.heads, headDim, bias ? { ...options, bias } : options);
    x = g.op('Add', [x, linear(g, attn, `${lp}.self_attn.out_proj`, hidden, hidden)]);
    const m = layerNorm(g, x, `${lp}.layer_norm2`, hidden, eps);
    const up = linear(g, m, `${lp}.mlp.fc1`, hidden, intermediate);
    const activated = spec.act === 'quick_gelu' ? quickGelu(g, up) : gelu(g, up);
    x = g.op('Add', [x, linear(g, activated, `${lp}.mlp.fc2`, intermediate, hidden)]);
    states.push(x);
  }
  return states;
}
