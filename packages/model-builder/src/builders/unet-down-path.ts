/**
 * What diffusers' UNet2DConditionModel and ControlNetModel share: the config
 * fields they read and refuse alike, the timestep (and SDXL text_time) embedding
 * with its inputs, and the down path (conv_in's output through the down
 * blocks, keeping every skip residual) and the mid block. The ControlNet is
 * the UNet's down half with its own conditioning added after conv_in.
 */
import { ConfigReader } from './config-reader.js';
import { linear, silu, type LayerOptions } from '../graph/layers.js';
import type { Dim, ModelGraph } from '../graph/model-graph.js';
import { downsample, resnetBlock, timestepProjection, transformer2d, type CrossAttentionHook, type TransformerSpec } from './unet-parts.js';

export const DOWN_BLOCK_TYPES = ['DownBlock2D', 'CrossAttnDownBlock2D'] as const;

export interface UNetDownConfig {
  readonly channels: readonly number[];
  readonly downTypes: readonly string[];
  readonly layersPerBlock: readonly number[];
  readonly transformerLayers: readonly number[];
  readonly heads: readonly number[];
  readonly crossAttentionDim: number;
  readonly groups: number;
  readonly eps: number;
  readonly useLinearProjection: boolean;
  readonly flipSinToCos: boolean;
  readonly freqShift: number;
  readonly inChannels: number;
  readonly downsamplePadding: number;
  readonly midScale: number;
  readonly addition: 'text_time' | null;
  /** block_out_channels[0] x 4, the time embedding's width. */
  readonly timeDim: number;
}

/** Reads (and refuses what the builder does not build) the fields both models take. */
export function readUNetDownConfig(c: ConfigReader): UNetDownConfig {
  c.unsupported('center_input_sample', [false], 'center_input_sample');
  c.unsupported('class_embed_type', [null], 'a class embedding');
  c.unsupported('num_class_embeds', [null], 'a class embedding');
  c.unsupported('encoder_hid_dim', [null], 'an encoder_hid_proj');
  c.unsupported('encoder_hid_dim_type', [null], 'an encoder_hid_proj');
  c.unsupported('time_cond_proj_dim', [null], 'a timestep condition (LCM) input');
  c.unsupported('timestep_post_act', [null], 'timestep_post_act');
  c.unsupported('time_embedding_type', ['positional'], 'this time embedding type');
  c.unsupported('time_embedding_act_fn', [null], 'time_embedding_act_fn');
  c.unsupported('time_embedding_dim', [null], 'a custom time_embedding_dim');
  c.unsupported('resnet_time_scale_shift', ['default'], 'resnet_time_scale_shift other than "default"');
  c.unsupported('dual_cross_attention', [false], 'dual cross attention');
  c.unsupported('only_cross_attention', [false], 'only_cross_attention');
  c.unsupported('mid_block_only_cross_attention', [null, false], 'mid_block_only_cross_attention');
  c.unsupported('attention_type', ['default'], 'this attention type');
  c.unsupported('conv_in_kernel', [3], 'a conv_in kernel other than 3');
  c.unsupported('cross_attention_norm', [null], 'cross_attention_norm');
  c.unsupported('resnet_skip_time_act', [false], 'resnet_skip_time_act');
  c.unsupported('resnet_out_scale_factor', [1, 1.0], 'resnet_out_scale_factor other than 1');
  c.unsupported('num_attention_heads', [null], 'num_attention_heads (diffusers itself refuses it; use attention_head_dim)');
  c.oneOf('act_fn', ['silu'] as const, 'silu');
  c.oneOf('mid_block_type', ['UNetMidBlock2DCrossAttn'] as const, 'UNetMidBlock2DCrossAttn');
  const addition = c.config.addition_embed_type ?? null;
  if (addition !== null && addition !== 'text_time') c.fail('addition_embed_type', `is ${JSON.stringify(addition)}; the model builder supports null and "text_time" (SDXL).`);

  const downTypes = c.strings('down_block_types');
  downTypes.forEach((t, i) => { if (!(DOWN_BLOCK_TYPES as readonly string[]).includes(t)) c.fail(`down_block_types`, `[${i}] is "${t}"; supported: ${DOWN_BLOCK_TYPES.join(', ')}.`); });
  const channels = c.ints('block_out_channels');
  const n = channels.length;
  if (downTypes.length !== n) c.fail('block_out_channels', `has ${n} entries but there are ${downTypes.length} down blocks.`);
  const heads = c.perBlock('attention_head_dim', n, 8);
  const groups = c.int('norm_num_groups', 32);
  for (let i = 0; i < n; i++) {
    if (channels[i]! % groups !== 0) c.fail('norm_num_groups', `(${groups}) must divide block_out_channels[${i}] (${channels[i]}).`);
    if (channels[i]! % heads[i]! !== 0) c.fail('attention_head_dim', `[${i}] (${heads[i]} heads) must divide block_out_channels[${i}] (${channels[i]}).`);
  }
  c.bool('upcast_attention', false); // attention runs in float32 here either way
  return {
    channels,
    downTypes,
    layersPerBlock: c.perBlock('layers_per_block', n, 2),
    transformerLayers: c.perBlock('transformer_layers_per_block', n, 1),
    heads,
    crossAttentionDim: c.int('cross_attention_dim'),
    groups,
    eps: c.number('norm_eps', 1e-5),
    useLinearProjection: c.bool('use_linear_projection', false),
    flipSinToCos: c.bool('flip_sin_to_cos', true),
    freqShift: c.number('freq_shift', 0),
    inChannels: c.int('in_channels', 4),
    downsamplePadding: c.int('downsample_padding', 1),
    midScale: c.number('mid_block_scale_factor', 1),
    addition,
    timeDim: channels[0]! * 4,
  };
}

export interface UNetInputs {
  readonly batch: Dim;
  readonly sample: string;
  readonly context: string;
  /** The time (plus added text_time) embedding, before any SiLU. */
  readonly emb: string;
}

/**
 * Declares `sample`, `timestep`, `encoder_hidden_states` (and for text_time
 * `text_embeds`, `time_ids`) and builds the embedding diffusers adds to every
 * resnet: time_embedding(time_proj(t)) + add_embedding([text_embeds, time_proj(time_ids)]).
 */
export function declareUNetInputs(
  g: ModelGraph,
  c: ConfigReader,
  cfg: UNetDownConfig,
  /** Adds to the time embedding before the text_time embedding is added (a ControlNet-Union's control-type embedding), in diffusers' order. */
  beforeAddedEmbedding?: (emb: string) => string,
): UNetInputs {
  const batch = 'batch_size';
  const c0 = cfg.channels[0]!;
  const sample = g.input('sample', 'float32', [batch, cfg.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['steps']);
  const context = g.input('encoder_hidden_states', 'float32', [batch, 'sequence_length', cfg.crossAttentionDim]);

  // One timestep per row (a single one is broadcast, as diffusers' expand does).
  const rows = g.op('Slice', [g.op('Shape', [sample]), g.constInt64([0]), g.constInt64([1])]);
  const steps = g.op('Expand', [timestep, rows]);
  const tEmb = timestepProjection(g, steps, c0, cfg.flipSinToCos, cfg.freqShift);
  let emb = linear(g, silu(g, linear(g, tEmb, 'time_embedding.linear_1', c0, cfg.timeDim)), 'time_embedding.linear_2', cfg.timeDim, cfg.timeDim);
  if (beforeAddedEmbedding) emb = beforeAddedEmbedding(emb);
  if (cfg.addition === 'text_time') {
    const timeEmbedDim = c.int('addition_time_embed_dim');
    const projDim = c.int('projection_class_embeddings_input_dim');
    // SDXL base passes 6 time ids (2816 = 1280 + 6 x 256), the refiner 5 (2560 = 1280 + 5 x 256, with the aesthetic
    // score): diffusers just concatenates, so both sizes stay symbolic and add_embedding's weight checks the sum.
    const textEmbeds = g.input('text_embeds', 'float32', [batch, 'text_embeds_dim']);
    const timeIds = g.input('time_ids', 'float32', [batch, 'time_ids_length']);
    const flat = g.op('Reshape', [timeIds, g.constInt64([-1])]);
    const rowsOfText = g.op('Slice', [g.op('Shape', [textEmbeds]), g.constInt64([0]), g.constInt64([1])]);
    const timeEmbeds = g.op('Reshape', [timestepProjection(g, flat, timeEmbedDim, cfg.flipSinToCos, cfg.freqShift), g.op('Concat', [rowsOfText, g.constInt64([-1])], { axis: { i: 0 } })]);
    const added = g.op('Concat', [textEmbeds, timeEmbeds], { axis: { i: -1 } });
    const aug = linear(g, silu(g, linear(g, added, 'add_embedding.linear_1', projDim, cfg.timeDim)), 'add_embedding.linear_2', cfg.timeDim, cfg.timeDim);
    emb = g.op('Add', [emb, aug]);
  }
  return { batch, sample, context, emb };
}

export interface DownPathResult {
  readonly sample: string;
  /** conv_in's output, then every resnet/attention output and downsampler output: diffusers' down_block_res_samples. */
  readonly residuals: string[];
  readonly residualChannels: number[];
}

function transformerSpec(cfg: UNetDownConfig, i: number, hook: CrossAttentionHook | undefined): Omit<TransformerSpec, 'channels'> {
  return {
    heads: cfg.heads[i]!, headDim: cfg.channels[i]! / cfg.heads[i]!, layers: cfg.transformerLayers[i]!, crossAttentionDim: cfg.crossAttentionDim,
    groups: cfg.groups, useLinearProjection: cfg.useLinearProjection, crossAttentionHook: hook,
  };
}

/** The down blocks over `sample` (conv_in's output, [B, block_out_channels[0], h, w]). */
export function buildDownBlocks(g: ModelGraph, cfg: UNetDownConfig, input: string, emb: string, context: string, options: LayerOptions, hook?: CrossAttentionHook): DownPathResult {
  let sample = input;
  const residuals: string[] = [sample];
  const residualChannels: number[] = [cfg.channels[0]!];
  const n = cfg.channels.length;
  let prev = cfg.channels[0]!;
  for (let i = 0; i < n; i++) {
    const out = cfg.channels[i]!;
    const prefix = `down_blocks.${i}`;
    for (let l = 0; l < cfg.layersPerBlock[i]!; l++) {
      sample = resnetBlock(g, sample, `${prefix}.resnets.${l}`, { inChannels: l === 0 ? prev : out, outChannels: out, groups: cfg.groups, eps: cfg.eps, tembChannels: cfg.timeDim }, emb);
      if (cfg.downTypes[i] === 'CrossAttnDownBlock2D') sample = transformer2d(g, sample, `${prefix}.attentions.${l}`, { channels: out, ...transformerSpec(cfg, i, hook) }, context, options);
      residuals.push(sample);
      residualChannels.push(out);
    }
    if (i < n - 1) {
      sample = downsample(g, sample, `${prefix}.downsamplers.0`, out, cfg.downsamplePadding);
      residuals.push(sample);
      residualChannels.push(out);
    }
    prev = out;
  }
  return { sample, residuals, residualChannels };
}

/** UNetMidBlock2DCrossAttn: resnet, transformer, resnet at the last block's width. */
export function buildMidBlock(g: ModelGraph, cfg: UNetDownConfig, input: string, emb: string, context: string, options: LayerOptions, hook?: CrossAttentionHook): string {
  const n = cfg.channels.length;
  const mid = cfg.channels[n - 1]!;
  const spec = { inChannels: mid, outChannels: mid, groups: cfg.groups, eps: cfg.eps, tembChannels: cfg.timeDim, outputScaleFactor: cfg.midScale };
  let sample = resnetBlock(g, input, 'mid_block.resnets.0', spec, emb);
  sample = transformer2d(g, sample, 'mid_block.attentions.0', { channels: mid, ...transformerSpec(cfg, n - 1, hook) }, context, options);
  return resnetBlock(g, sample, 'mid_block.resnets.1', spec, emb);
}
