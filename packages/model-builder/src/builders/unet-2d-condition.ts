/**
 * diffusers' UNet2DConditionModel as an ONNX graph with Optimum's
 * signature: `sample` [B, C, H, W], `timestep` [B], `encoder_hidden_states`
 * [B, S, cross_attention_dim] and, for `addition_embed_type: text_time`
 * (SDXL), `text_embeds` [B, D] and `time_ids` [B, 6] -> `out_sample`.
 * The config fields SDXL, SD 1.x/2.x and their finetunes use are built;
 * any other feature switched on is refused naming the field.
 *
 * Extension points (`UNetExtensions`) for adapters built on top:
 * ControlNet residual inputs (`down_block_additional_residual_<i>`,
 * `mid_block_additional_residual`, added where diffusers adds them) and a
 * cross-attention hook at every attn2 (an IP-Adapter adds its image K/V
 * attention there).
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { conv2d, groupNorm, linear, silu, type LayerOptions } from '../graph/layers.js';
import type { Dim, ModelGraph } from '../graph/model-graph.js';
import { downsample, resnetBlock, timestepProjection, transformer2d, upsample, type CrossAttentionHook } from './unet-parts.js';

export interface UNetExtensions {
  /** Declare ControlNet residual inputs and add them as diffusers does (`down_block_additional_residuals`, `mid_block_additional_residual`). */
  readonly controlNetResiduals?: boolean;
  /** Called at every cross-attention (attn2); its result is added to the attention output before `to_out`. */
  readonly crossAttentionHook?: CrossAttentionHook;
  /** Called once the standard inputs exist, to declare extra inputs (e.g. `image_embeds`) a hook uses. */
  readonly declareInputs?: (g: ModelGraph, batch: Dim) => void;
}

const DOWN_TYPES = ['DownBlock2D', 'CrossAttnDownBlock2D'] as const;
const UP_TYPES = ['UpBlock2D', 'CrossAttnUpBlock2D'] as const;

export interface UNetLayout {
  readonly downResidualChannels: readonly number[];
  readonly midChannels: number;
}

export function buildUNet2DConditionModel(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions, extensions: UNetExtensions = {}): UNetLayout {
  const c = new ConfigReader(config, configFile);
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
  c.unsupported('conv_out_kernel', [3], 'a conv_out kernel other than 3');
  c.unsupported('cross_attention_norm', [null], 'cross_attention_norm');
  c.unsupported('class_embeddings_concat', [false], 'class_embeddings_concat');
  c.unsupported('resnet_skip_time_act', [false], 'resnet_skip_time_act');
  c.unsupported('resnet_out_scale_factor', [1, 1.0], 'resnet_out_scale_factor other than 1');
  c.unsupported('num_attention_heads', [null], 'num_attention_heads (diffusers itself refuses it; use attention_head_dim)');
  c.unsupported('reverse_transformer_layers_per_block', [null], 'reverse_transformer_layers_per_block');
  c.oneOf('act_fn', ['silu'] as const, 'silu');
  c.oneOf('mid_block_type', ['UNetMidBlock2DCrossAttn'] as const, 'UNetMidBlock2DCrossAttn');
  const addition = c.config.addition_embed_type ?? null;
  if (addition !== null && addition !== 'text_time') c.fail('addition_embed_type', `is ${JSON.stringify(addition)}; the model builder supports null and "text_time" (SDXL).`);

  const downTypes = c.strings('down_block_types');
  const upTypes = c.strings('up_block_types');
  downTypes.forEach((t, i) => { if (!(DOWN_TYPES as readonly string[]).includes(t)) c.fail(`down_block_types`, `[${i}] is "${t}"; supported: ${DOWN_TYPES.join(', ')}.`); });
  upTypes.forEach((t, i) => { if (!(UP_TYPES as readonly string[]).includes(t)) c.fail(`up_block_types`, `[${i}] is "${t}"; supported: ${UP_TYPES.join(', ')}.`); });
  const channels = c.ints('block_out_channels');
  const n = channels.length;
  if (downTypes.length !== n || upTypes.length !== n) c.fail('block_out_channels', `has ${n} entries but there are ${downTypes.length} down and ${upTypes.length} up blocks.`);
  const layersPerBlock = c.perBlock('layers_per_block', n, 2);
  const transformerLayers = c.perBlock('transformer_layers_per_block', n, 1);
  const heads = c.perBlock('attention_head_dim', n, 8);
  const crossDim = c.int('cross_attention_dim');
  const groups = c.int('norm_num_groups', 32);
  const eps = c.number('norm_eps', 1e-5);
  const useLinear = c.bool('use_linear_projection', false);
  c.bool('upcast_attention', false); // attention runs in float32 here either way
  const flip = c.bool('flip_sin_to_cos', true);
  const freqShift = c.number('freq_shift', 0);
  const inChannels = c.int('in_channels', 4);
  const outChannels = c.int('out_channels', 4);
  const downsamplePadding = c.int('downsample_padding', 1);
  const midScale = c.number('mid_block_scale_factor', 1);
  for (let i = 0; i < n; i++) {
    if (channels[i]! % groups !== 0) c.fail('norm_num_groups', `(${groups}) must divide block_out_channels[${i}] (${channels[i]}).`);
    if (channels[i]! % heads[i]! !== 0) c.fail('attention_head_dim', `[${i}] (${heads[i]} heads) must divide block_out_channels[${i}] (${channels[i]}).`);
  }
  const timeDim = channels[0]! * 4;

  const batch = 'batch_size';
  let sample = g.input('sample', 'float32', [batch, inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['steps']);
  const context = g.input('encoder_hidden_states', 'float32', [batch, 'sequence_length', crossDim]);

  // Time embedding: one timestep per row (a single one is broadcast, as diffusers' expand does).
  const rows = g.op('Slice', [g.op('Shape', [sample]), g.constInt64([0]), g.constInt64([1])]);
  const steps = g.op('Expand', [timestep, rows]);
  const tEmb = timestepProjection(g, steps, channels[0]!, flip, freqShift);
  let emb = linear(g, silu(g, linear(g, tEmb, 'time_embedding.linear_1', channels[0]!, timeDim)), 'time_embedding.linear_2', timeDim, timeDim);
  if (addition === 'text_time') {
    const timeEmbedDim = c.int('addition_time_embed_dim');
    const projDim = c.int('projection_class_embeddings_input_dim');
    // SDXL base passes 6 time ids (2816 = 1280 + 6 x 256), the refiner 5 (2560 = 1280 + 5 x 256, with the aesthetic
    // score): diffusers just concatenates, so both sizes stay symbolic and add_embedding's weight checks the sum.
    const textEmbeds = g.input('text_embeds', 'float32', [batch, 'text_embeds_dim']);
    const timeIds = g.input('time_ids', 'float32', [batch, 'time_ids_length']);
    const flat = g.op('Reshape', [timeIds, g.constInt64([-1])]);
    const rowsOfText = g.op('Slice', [g.op('Shape', [textEmbeds]), g.constInt64([0]), g.constInt64([1])]);
    const timeEmbeds = g.op('Reshape', [timestepProjection(g, flat, timeEmbedDim, flip, freqShift), g.op('Concat', [rowsOfText, g.constInt64([-1])], { axis: { i: 0 } })]);
    const added = g.op('Concat', [textEmbeds, timeEmbeds], { axis: { i: -1 } });
    const aug = linear(g, silu(g, linear(g, added, 'add_embedding.linear_1', projDim, timeDim)), 'add_embedding.linear_2', timeDim, timeDim);
    emb = g.op('Add', [emb, aug]);
  }
  extensions.declareInputs?.(g, batch);

  sample = conv2d(g, sample, 'conv_in', inChannels, channels[0]!, 3);
  const residuals: string[] = [sample];
  const residualChannels: number[] = [channels[0]!];
  const tx = (i: number) => ({
    heads: heads[i]!, headDim: channels[i]! / heads[i]!, layers: transformerLayers[i]!, crossAttentionDim: crossDim, groups,
    useLinearProjection: useLinear, crossAttentionHook: extensions.crossAttentionHook,
  });

  let prev = channels[0]!;
  for (let i = 0; i < n; i++) {
    const out = channels[i]!;
    const prefix = `down_blocks.${i}`;
    for (let l = 0; l < layersPerBlock[i]!; l++) {
      sample = resnetBlock(g, sample, `${prefix}.resnets.${l}`, { inChannels: l === 0 ? prev : out, outChannels: out, groups, eps, tembChannels: timeDim }, emb);
      if (downTypes[i] === 'CrossAttnDownBlock2D') sample = transformer2d(g, sample, `${prefix}.attentions.${l}`, { channels: out, ...tx(i) }, context, options);
      residuals.push(sample);
      residualChannels.push(out);
    }
    if (i < n - 1) {
      sample = downsample(g, sample, `${prefix}.downsamplers.0`, out, downsamplePadding);
      residuals.push(sample);
      residualChannels.push(out);
    }
    prev = out;
  }

  const layout: UNetLayout = { downResidualChannels: [...residualChannels], midChannels: channels[n - 1]! };
  if (extensions.controlNetResiduals) {
    residuals.forEach((value, index) => {
      const extra = g.input(`down_block_additional_residual_${index}`, 'float32', [batch, residualChannels[index]!, `residual_${index}_height`, `residual_${index}_width`]);
      residuals[index] = g.op('Add', [value, extra]);
    });
  }

  const mid = channels[n - 1]!;
  const midSpec = { inChannels: mid, outChannels: mid, groups, eps, tembChannels: timeDim, outputScaleFactor: midScale };
  sample = resnetBlock(g, sample, 'mid_block.resnets.0', midSpec, emb);
  sample = transformer2d(g, sample, 'mid_block.attentions.0', { channels: mid, ...tx(n - 1) }, context, options);
  sample = resnetBlock(g, sample, 'mid_block.resnets.1', midSpec, emb);
  if (extensions.controlNetResiduals) {
    sample = g.op('Add', [sample, g.input('mid_block_additional_residual', 'float32', [batch, mid, 'mid_height', 'mid_width'])]);
  }

  const reversed = [...channels].reverse();
  const reversedHeads = [...heads].reverse();
  const reversedLayers = [...layersPerBlock].reverse();
  const reversedTransformerLayers = [...transformerLayers].reverse();
  prev = reversed[0]!;
  for (let i = 0; i < n; i++) {
    const out = reversed[i]!;
    const input = reversed[Math.min(i + 1, n - 1)]!;
    const prefix = `up_blocks.${i}`;
    const layers = reversedLayers[i]! + 1;
    for (let l = 0; l < layers; l++) {
      const skip = residuals.pop()!;
      const skipChannels = residualChannels.pop()!;
      const expectedSkip = l === layers - 1 ? input : out;
      if (skipChannels !== expectedSkip) c.fail('block_out_channels', 'gives a skip connection layout the builder cannot match; check layers_per_block.');
      sample = g.op('Concat', [sample, skip], { axis: { i: 1 } });
      sample = resnetBlock(g, sample, `${prefix}.resnets.${l}`, { inChannels: (l === 0 ? prev : out) + skipChannels, outChannels: out, groups, eps, tembChannels: timeDim }, emb);
      if (upTypes[i] === 'CrossAttnUpBlock2D') {
        sample = transformer2d(g, sample, `${prefix}.attentions.${l}`, {
          channels: out, heads: reversedHeads[i]!, headDim: out / reversedHeads[i]!, layers: reversedTransformerLayers[i]!, crossAttentionDim: crossDim,
          groups, useLinearProjection: useLinear, crossAttentionHook: extensions.crossAttentionHook,
        }, context, options);
      }
    }
    if (i < n - 1) sample = upsample(g, sample, `${prefix}.upsamplers.0`, out);
    prev = out;
  }

  sample = silu(g, groupNorm(g, sample, 'conv_norm_out', channels[0]!, groups, eps));
  sample = conv2d(g, sample, 'conv_out', channels[0]!, outChannels, 3);
  g.output('out_sample', sample, 'float32', [batch, outChannels, 'height', 'width']);
  return layout;
}
