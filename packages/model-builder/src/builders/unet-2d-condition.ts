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
import { conv2d, groupNorm, silu, type LayerOptions } from '../graph/layers.js';
import type { Dim, ModelGraph } from '../graph/model-graph.js';
import { resnetBlock, transformer2d, upsample, type CrossAttentionHook } from './unet-parts.js';
import { buildDownBlocks, buildMidBlock, declareUNetInputs, readUNetDownConfig } from './unet-down-path.js';

export interface UNetExtensions {
  /** Declare ControlNet residual inputs and add them as diffusers does (`down_block_additional_residuals`, `mid_block_additional_residual`). */
  readonly controlNetResiduals?: boolean;
  /** Called at every cross-attention (attn2); its result is added to the attention output before `to_out`. */
  readonly crossAttentionHook?: CrossAttentionHook;
  /** Called once the standard inputs exist, to declare extra inputs (e.g. `image_embeds`) a hook uses. */
  readonly declareInputs?: (g: ModelGraph, batch: Dim) => void;
}

const UP_TYPES = ['UpBlock2D', 'CrossAttnUpBlock2D'] as const;

export interface UNetLayout {
  readonly downResidualChannels: readonly number[];
  readonly midChannels: number;
}

export function buildUNet2DConditionModel(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions, extensions: UNetExtensions = {}): UNetLayout {
  const c = new ConfigReader(config, configFile);
  const cfg = readUNetDownConfig(c);
  c.unsupported('conv_out_kernel', [3], 'a conv_out kernel other than 3');
  c.unsupported('class_embeddings_concat', [false], 'class_embeddings_concat');
  c.unsupported('reverse_transformer_layers_per_block', [null], 'reverse_transformer_layers_per_block');
  const upTypes = c.strings('up_block_types');
  upTypes.forEach((t, i) => { if (!(UP_TYPES as readonly string[]).includes(t)) c.fail(`up_block_types`, `[${i}] is "${t}"; supported: ${UP_TYPES.join(', ')}.`); });
  const { channels, heads, layersPerBlock, transformerLayers, groups, eps, timeDim } = cfg;
  const n = channels.length;
  if (upTypes.length !== n) c.fail('block_out_channels', `has ${n} entries but there are ${upTypes.length} up blocks.`);
  const crossDim = cfg.crossAttentionDim;
  const useLinear = cfg.useLinearProjection;
  const outChannels = c.int('out_channels', 4);

  const { batch, sample: input, context, emb } = declareUNetInputs(g, c, cfg);
  extensions.declareInputs?.(g, batch);

  const down = buildDownBlocks(g, cfg, conv2d(g, input, 'conv_in', cfg.inChannels, channels[0]!, 3), emb, context, options, extensions.crossAttentionHook);
  const { residuals, residualChannels } = down;
  let sample = down.sample;

  const layout: UNetLayout = { downResidualChannels: [...residualChannels], midChannels: channels[n - 1]! };
  if (extensions.controlNetResiduals) {
    residuals.forEach((value, index) => {
      const extra = g.input(`down_block_additional_residual_${index}`, 'float32', [batch, residualChannels[index]!, `residual_${index}_height`, `residual_${index}_width`]);
      residuals[index] = g.op('Add', [value, extra]);
    });
  }

  const mid = channels[n - 1]!;
  sample = buildMidBlock(g, cfg, sample, emb, context, options, extensions.crossAttentionHook);
  if (extensions.controlNetResiduals) {
    sample = g.op('Add', [sample, g.input('mid_block_additional_residual', 'float32', [batch, mid, 'mid_height', 'mid_width'])]);
  }

  const reversed = [...channels].reverse();
  const reversedHeads = [...heads].reverse();
  const reversedLayers = [...layersPerBlock].reverse();
  const reversedTransformerLayers = [...transformerLayers].reverse();
  let prev = reversed[0]!;
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
