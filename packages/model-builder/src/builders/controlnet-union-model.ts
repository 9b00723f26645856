/**
 * diffusers' ControlNetUnionModel (ControlNet++, e.g. xinsir/controlnet-union-sdxl-1.0) as an
 * ONNX graph: the ControlNet's inputs with `controlnet_cond` [B, K, C, H, W] (K control images,
 * one per control mode), `control_type` [B, num_control_type] (the one-hot modes) and
 * `control_type_idx` [K] (each image's mode) -> the ControlNet's residual outputs.
 *
 * What it adds to the ControlNet: a control-type embedding (Timesteps + TimestepEmbedding over
 * `control_type`) added to the time embedding; per image, the conditioning embedding's pixel mean
 * plus `task_embedding[mode]` as a token, and the mean of conv_in's output as a last token; those
 * K + 1 tokens through `transformer_layes` (CLIP-style blocks with torch's nn.MultiheadAttention,
 * which is sequence-first: diffusers hands it [B, K + 1, C], so it attends across the batch rows
 * for each token position, and so does this graph); then conv_in's output plus, per image, its
 * conditioning embedding plus `spatial_ch_projs(token)`. With one image the residuals are scaled
 * by `conditioning_scale` at the end; with several each image's terms are scaled instead, as
 * diffusers does (one scale for all images here: the pipelines pass one).
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { attention, conv2d, layerNorm, linear, quickGelu, silu, type LayerOptions } from '../graph/layers.js';
import { CONTRIB_DOMAIN, type ModelGraph } from '../graph/model-graph.js';
import { conditioningEmbedding, controlNetOutputs, readConditioningEmbedding, type ControlNetLayout } from './controlnet-model.js';
import { timestepProjection } from './unet-parts.js';
import { buildDownBlocks, buildMidBlock, declareUNetInputs, readUNetDownConfig } from './unet-down-path.js';

export function buildControlNetUnionModel(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions): ControlNetLayout {
  const c = new ConfigReader(config, configFile);
  const cfg = readUNetDownConfig(c);
  const embedding = readConditioningEmbedding(c, [48, 96, 192, 384]);
  c.oneOf('controlnet_conditioning_channel_order', ['rgb'] as const, 'rgb'); // diffusers' union model refuses any other
  const globalPool = c.bool('global_pool_conditions', false);
  const numControlType = c.int('num_control_type', 6);
  const tokenChannels = c.int('num_trans_channel', 320);
  const heads = c.int('num_trans_head', 8);
  const layers = c.int('num_trans_layer', 1);
  const projChannels = c.int('num_proj_channel', 320);
  const c0 = cfg.channels[0]!;
  if (tokenChannels !== c0) c.fail('num_trans_channel', `(${tokenChannels}) must equal block_out_channels[0] (${c0}): the tokens are pixel means of ${c0}-channel features.`);
  if (projChannels !== c0) c.fail('num_proj_channel', `(${projChannels}) must equal block_out_channels[0] (${c0}): spatial_ch_projs' output is added to them.`);
  if (tokenChannels % heads !== 0) c.fail('num_trans_head', `(${heads}) must divide num_trans_channel (${tokenChannels}).`);
  const controlTimeDim = c.int('addition_time_embed_dim');

  const { batch, sample: input, context, emb } = declareUNetInputs(g, c, cfg, (timeEmbedding) => {
    // (declared here, inside declareUNetInputs: its batch dimension is the one it names)
    const controlType = g.input('control_type', 'float32', ['batch_size', numControlType]);
    const rows = g.op('Slice', [g.op('Shape', [controlType]), g.constInt64([0]), g.constInt64([1])]);
    const projected = timestepProjection(g, g.op('Reshape', [controlType, g.constInt64([-1])]), controlTimeDim, cfg.flipSinToCos, cfg.freqShift);
    const flat = g.op('Reshape', [projected, g.op('Concat', [rows, g.constInt64([-1])], { axis: { i: 0 } })]);
    const width = controlTimeDim * numControlType;
    const controlEmb = linear(g, silu(g, linear(g, flat, 'control_add_embedding.linear_1', width, cfg.timeDim)), 'control_add_embedding.linear_2', cfg.timeDim, cfg.timeDim);
    return g.op('Add', [timeEmbedding, controlEmb]);
  });
  const cond = g.input('controlnet_cond', 'float32', [batch, 'control_images', embedding.conditioningChannels, 'image_height', 'image_width']);
  const typeIdx = g.input('control_type_idx', 'int64', ['control_images']);
  const scale = g.input('conditioning_scale', 'float32', [1]);

  // One image: scale the residuals at the end; several: scale each image's terms (diffusers' two paths).
  const condShape = g.op('Shape', [cond]);
  const images = g.op('Slice', [condShape, g.constInt64([1]), g.constInt64([2])]);
  const single = g.op('Equal', [images, g.constInt64([1])]);
  const one = g.constFloat([1], [1]);
  const perImage = g.op('Where', [single, one, scale]);
  const atEnd = g.op('Where', [single, scale, one]);

  const sample = conv2d(g, input, 'conv_in', cfg.inChannels, c0, 3);
  // The K images as one batch of B x K through the conditioning embedding, then back to [B, K, C0, h, w].
  const stacked = g.op('Reshape', [cond, g.op('Concat', [g.constInt64([-1, embedding.conditioningChannels]), g.op('Slice', [condShape, g.constInt64([3]), g.constInt64([5])])], { axis: { i: 0 } })]);
  const embedded = conditioningEmbedding(g, stacked, embedding, c0);
  const conditions = g.op('Reshape', [embedded, g.op('Concat', [g.op('Slice', [condShape, g.constInt64([0]), g.constInt64([2])]), g.constInt64([c0]), g.op('Slice', [g.op('Shape', [embedded]), g.constInt64([2]), g.constInt64([4])])], { axis: { i: 0 } })]);

  const taskEmbedding = g.op('Gather', [g.weight('task_embedding', [numControlType, tokenChannels]), typeIdx], { axis: { i: 0 } });
  const imageTokens = g.op('Mul', [g.op('Add', [g.op('ReduceMean', [conditions], { axes: { ints: [3, 4] }, keepdims: { i: 0 } }), taskEmbedding]), perImage]);
  const sampleToken = g.op('ReduceMean', [sample], { axes: { ints: [2, 3] }, keepdims: { i: 0 } });
  let tokens = g.op('Concat', [imageTokens, g.op('Unsqueeze', [sampleToken, g.constInt64([1])])], { axis: { i: 1 } });

  // nn.MultiheadAttention is sequence-first: [B, K + 1, C] is read as K + 1 sequences of length B.
  tokens = g.op('Transpose', [tokens], { perm: { ints: [1, 0, 2] } });
  for (let l = 0; l < layers; l++) tokens = residualAttentionBlock(g, tokens, `transformer_layes.${l}`, tokenChannels, heads, options);
  tokens = g.op('Transpose', [tokens], { perm: { ints: [1, 0, 2] } });

  const imageCount = g.op('Sub', [g.op('Slice', [g.op('Shape', [tokens]), g.constInt64([1]), g.constInt64([2])]), g.constInt64([1])]);
  const perImageTokens = g.op('Slice', [tokens, g.constInt64([0]), imageCount, g.constInt64([1])]);
  const alpha = g.op('Unsqueeze', [g.op('Mul', [linear(g, perImageTokens, 'spatial_ch_projs', tokenChannels, projChannels), perImage]), g.constInt64([3, 4])]);
  const fused = g.op('ReduceSum', [g.op('Add', [g.op('Mul', [conditions, perImage]), alpha]), g.constInt64([1])], { keepdims: { i: 0 } });

  const down = buildDownBlocks(g, cfg, g.op('Add', [sample, fused]), emb, context, options);
  const mid = buildMidBlock(g, cfg, down.sample, emb, context, options);
  return controlNetOutputs(g, cfg, batch, down, mid, (value) => {
    const scaled = g.op('Mul', [value, atEnd]);
    return globalPool ? g.op('ReduceMean', [scaled], { axes: { ints: [2, 3] }, keepdims: { i: 1 } }) : scaled;
  });
}

/** diffusers' union ResidualAttentionBlock over [N, S, C]: x + attn(ln_1(x)), then x + c_proj(QuickGELU(c_fc(ln_2(x)))). */
function residualAttentionBlock(g: ModelGraph, x: string, prefix: string, channels: number, heads: number, options: LayerOptions): string {
  const normed = layerNorm(g, x, `${prefix}.ln_1`, channels, 1e-5);
  // in_proj_weight packs the query, key and value projections [3C, C].
  const w = g.weight(`${prefix}.attn.in_proj_weight`, [3 * channels, channels]);
  const product = g.layerOptions.fused
    ? g.op('FusedMatMul', [normed, w], { transB: { i: 1 }, alpha: { f: 1 } }, CONTRIB_DOMAIN)
    : g.op('MatMul', [normed, g.op('Transpose', [w], { perm: { ints: [1, 0] } })]);
  const packed = g.op('Add', [product, g.weight(`${prefix}.attn.in_proj_bias`, [3 * channels])]);
  const [q, k, v] = g.opN('Split', [packed, g.constInt64([channels, channels, channels])], 3, { axis: { i: -1 } });
  const attended = attention(g, q!, k!, v!, heads, channels / heads, options);
  let h = g.op('Add', [x, linear(g, attended, `${prefix}.attn.out_proj`, channels, channels)]);
  const mlp = linear(g, quickGelu(g, linear(g, layerNorm(g, h, `${prefix}.ln_2`, channels, 1e-5), `${prefix}.mlp.c_fc`, channels, 4 * channels)), `${prefix}.mlp.c_proj`, 4 * channels, channels);
  h = g.op('Add', [h, mlp]);
  return h;
}
