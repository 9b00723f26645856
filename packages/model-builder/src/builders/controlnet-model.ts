/**
 * diffusers' ControlNetModel as an ONNX graph with the signature the SDXL
 * ControlNet component runs: `sample`, `timestep`, `encoder_hidden_states`,
 * (`text_embeds`, `time_ids` for text_time), `controlnet_cond` (the control
 * image [B, conditioning_channels, H, W] in [0, 1]) and `conditioning_scale`
 * [1] -> `down_block_res_samples_<i>` and `mid_block_res_sample`.
 *
 * It is the UNet's down half (unet-down-path.ts, the same weights' names and
 * checks) with ControlNetConditioningEmbedding added to conv_in's output, then
 * a zero-initialised 1x1 convolution per residual (`controlnet_down_blocks.<i>`,
 * `controlnet_mid_block`), every residual times `conditioning_scale`.
 * `global_pool_conditions` averages each residual over its pixels, as
 * diffusers does after scaling. Guess mode's per-block weights are not in
 * the graph: the component runs at scale 1 and weights the outputs
 * (packages/sdxl components/controlnet.ts), as a scalar input cannot carry them.
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { conv2d, silu, type LayerOptions } from '../graph/layers.js';
import type { Dim, ModelGraph } from '../graph/model-graph.js';
import { buildDownBlocks, buildMidBlock, declareUNetInputs, readUNetDownConfig, type DownPathResult, type UNetDownConfig } from './unet-down-path.js';

export interface ControlNetLayout {
  readonly downResidualChannels: readonly number[];
  readonly midChannels: number;
}

export function buildControlNetModel(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions): ControlNetLayout {
  const c = new ConfigReader(config, configFile);
  const cfg = readUNetDownConfig(c);
  const embedding = readConditioningEmbedding(c, [16, 32, 96, 256]);
  const order = c.oneOf('controlnet_conditioning_channel_order', ['rgb', 'bgr'] as const, 'rgb');
  const globalPool = c.bool('global_pool_conditions', false);
  const c0 = cfg.channels[0]!;

  const { batch, sample: input, context, emb } = declareUNetInputs(g, c, cfg);
  let cond = g.input('controlnet_cond', 'float32', [batch, embedding.conditioningChannels, 'image_height', 'image_width']);
  const scale = g.input('conditioning_scale', 'float32', [1]);
  if (order === 'bgr') {
    const reversed = Array.from({ length: embedding.conditioningChannels }, (_, k) => embedding.conditioningChannels - 1 - k);
    cond = g.op('Gather', [cond, g.constInt64(reversed)], { axis: { i: 1 } });
  }

  const sample = g.op('Add', [conv2d(g, input, 'conv_in', cfg.inChannels, c0, 3), conditioningEmbedding(g, cond, embedding, c0)]);
  const down = buildDownBlocks(g, cfg, sample, emb, context, options);
  const mid = buildMidBlock(g, cfg, down.sample, emb, context, options);
  return controlNetOutputs(g, cfg, batch, down, mid, (value) => {
    const scaled = g.op('Mul', [value, scale]);
    return globalPool ? g.op('ReduceMean', [scaled], { axes: { ints: [2, 3] }, keepdims: { i: 1 } }) : scaled;
  });
}

export interface ConditioningEmbeddingSpec {
  readonly conditioningChannels: number;
  /** conditioning_embedding_out_channels */
  readonly channels: readonly number[];
}

export function readConditioningEmbedding(c: ConfigReader, fallback: readonly number[]): ConditioningEmbeddingSpec {
  const channels = c.config.conditioning_embedding_out_channels !== undefined && c.config.conditioning_embedding_out_channels !== null
    ? c.ints('conditioning_embedding_out_channels')
    : [...fallback];
  return { conditioningChannels: c.int('conditioning_channels', 3), channels };
}

/** ControlNetConditioningEmbedding: conv_in, then per step a 3x3 conv and a stride-2 3x3 conv, SiLU after each; conv_out. */
export function conditioningEmbedding(g: ModelGraph, cond: string, spec: ConditioningEmbeddingSpec, outChannels: number): string {
  const channels = spec.channels;
  let h = silu(g, conv2d(g, cond, 'controlnet_cond_embedding.conv_in', spec.conditioningChannels, channels[0]!, 3));
  for (let i = 0; i < channels.length - 1; i++) {
    const from = channels[i]!;
    h = silu(g, conv2d(g, h, `controlnet_cond_embedding.blocks.${2 * i}`, from, from, 3));
    h = silu(g, conv2d(g, h, `controlnet_cond_embedding.blocks.${2 * i + 1}`, from, channels[i + 1]!, 3, { stride: 2 }));
  }
  return conv2d(g, h, 'controlnet_cond_embedding.conv_out', channels[channels.length - 1]!, outChannels, 3);
}

/** The zero convolutions over every down residual and the mid block's output, through `finish` (scale, pool), as graph outputs. */
export function controlNetOutputs(g: ModelGraph, cfg: UNetDownConfig, batch: Dim, down: DownPathResult, mid: string, finish: (value: string) => string): ControlNetLayout {
  down.residuals.forEach((residual, k) => {
    const channels = down.residualChannels[k]!;
    const out = finish(conv2d(g, residual, `controlnet_down_blocks.${k}`, channels, channels, 1));
    g.output(`down_block_res_samples_${k}`, out, 'float32', [batch, channels, `residual_${k}_height`, `residual_${k}_width`]);
  });
  const midChannels = cfg.channels[cfg.channels.length - 1]!;
  g.output('mid_block_res_sample', finish(conv2d(g, mid, 'controlnet_mid_block', midChannels, midChannels, 1)), 'float32', [batch, midChannels, 'mid_height', 'mid_width']);
  return { downResidualChannels: [...down.residualChannels], midChannels };
}
