/**
 * diffusers' AutoencoderKL as two ONNX graphs with Optimum's signatures:
 * the encoder `sample` [B, 3, H, W] -> `latent_parameters` (the mean and
 * log-variance, after quant_conv), the decoder `latent_sample`
 * [B, L, h, w] -> `sample` (post_quant_conv, then the decoder).
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { attention, conv2d, groupNorm, linear, silu, type LayerOptions } from '../graph/layers.js';
import type { ModelGraph } from '../graph/model-graph.js';
import { downsample, resnetBlock, upsample } from './unet-parts.js';

interface VaeShape {
  readonly channels: number[];
  readonly layers: number;
  readonly groups: number;
  readonly latent: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly midAttention: boolean;
  readonly quantConv: boolean;
  readonly postQuantConv: boolean;
}

const EPS = 1e-6;

export function readVaeConfig(config: ModelConfig, configFile: string): VaeShape {
  const c = new ConfigReader(config, configFile);
  const channels = c.ints('block_out_channels');
  const down = c.strings('down_block_types');
  const up = c.strings('up_block_types');
  down.forEach((t, i) => { if (t !== 'DownEncoderBlock2D') c.fail('down_block_types', `[${i}] is "${t}"; the model builder supports DownEncoderBlock2D.`); });
  up.forEach((t, i) => { if (t !== 'UpDecoderBlock2D') c.fail('up_block_types', `[${i}] is "${t}"; the model builder supports UpDecoderBlock2D.`); });
  if (down.length !== channels.length || up.length !== channels.length) c.fail('block_out_channels', `has ${channels.length} entries but there are ${down.length} down and ${up.length} up blocks.`);
  c.oneOf('act_fn', ['silu'] as const, 'silu');
  const groups = c.int('norm_num_groups', 32);
  channels.forEach((ch, i) => { if (ch % groups !== 0) c.fail('norm_num_groups', `(${groups}) must divide block_out_channels[${i}] (${ch}).`); });
  return {
    channels,
    layers: c.int('layers_per_block', 1),
    groups,
    latent: c.int('latent_channels', 4),
    inChannels: c.int('in_channels', 3),
    outChannels: c.int('out_channels', 3),
    midAttention: c.bool('mid_block_add_attention', true),
    quantConv: c.bool('use_quant_conv', true),
    postQuantConv: c.bool('use_post_quant_conv', true),
  };
}

/** UNetMidBlock2D without a time embedding: resnet, (single-head) attention, resnet. */
function midBlock(g: ModelGraph, x: string, prefix: string, ch: number, v: VaeShape, options: LayerOptions): string {
  const spec = { inChannels: ch, outChannels: ch, groups: v.groups, eps: EPS, tembChannels: null };
  let h = resnetBlock(g, x, `${prefix}.resnets.0`, spec, null);
  if (v.midAttention) {
    const ap = `${prefix}.attentions.0`;
    const normed = groupNorm(g, h, `${ap}.group_norm`, ch, v.groups, EPS);
    const shape = g.op('Shape', [h]);
    const tokens = g.op('Transpose', [g.op('Reshape', [normed, g.constInt64([0, ch, -1])])], { perm: { ints: [0, 2, 1] } });
    const q = linear(g, tokens, `${ap}.to_q`, ch, ch);
    const k = linear(g, tokens, `${ap}.to_k`, ch, ch);
    const val = linear(g, tokens, `${ap}.to_v`, ch, ch);
    const attended = linear(g, attention(g, q, k, val, 1, ch, options), `${ap}.to_out.0`, ch, ch);
    const back = g.op('Reshape', [g.op('Transpose', [attended], { perm: { ints: [0, 2, 1] } }), shape]);
    h = g.op('Add', [back, h]);
  }
  return resnetBlock(g, h, `${prefix}.resnets.1`, spec, null);
}

export function buildVaeEncoder(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions): void {
  const v = readVaeConfig(config, configFile);
  const x = g.input('sample', 'float32', ['batch_size', v.inChannels, 'height', 'width']);
  let h = conv2d(g, x, 'encoder.conv_in', v.inChannels, v.channels[0]!, 3);
  let prev = v.channels[0]!;
  v.channels.forEach((out, i) => {
    for (let l = 0; l < v.layers; l++) {
      h = resnetBlock(g, h, `encoder.down_blocks.${i}.resnets.${l}`, { inChannels: l === 0 ? prev : out, outChannels: out, groups: v.groups, eps: EPS, tembChannels: null }, null);
    }
    if (i < v.channels.length - 1) h = downsample(g, h, `encoder.down_blocks.${i}.downsamplers.0`, out, 0);
    prev = out;
  });
  const top = v.channels[v.channels.length - 1]!;
  h = midBlock(g, h, 'encoder.mid_block', top, v, options);
  h = silu(g, groupNorm(g, h, 'encoder.conv_norm_out', top, v.groups, EPS));
  h = conv2d(g, h, 'encoder.conv_out', top, 2 * v.latent, 3);
  if (v.quantConv) h = conv2d(g, h, 'quant_conv', 2 * v.latent, 2 * v.latent, 1);
  g.output('latent_parameters', h, 'float32', ['batch_size', 2 * v.latent, 'latent_height', 'latent_width']);
}

export function buildVaeDecoder(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions): void {
  const v = readVaeConfig(config, configFile);
  let h = g.input('latent_sample', 'float32', ['batch_size', v.latent, 'latent_height', 'latent_width']);
  if (v.postQuantConv) h = conv2d(g, h, 'post_quant_conv', v.latent, v.latent, 1);
  const reversed = [...v.channels].reverse();
  h = conv2d(g, h, 'decoder.conv_in', v.latent, reversed[0]!, 3);
  h = midBlock(g, h, 'decoder.mid_block', reversed[0]!, v, options);
  let prev = reversed[0]!;
  reversed.forEach((out, i) => {
    for (let l = 0; l < v.layers + 1; l++) {
      h = resnetBlock(g, h, `decoder.up_blocks.${i}.resnets.${l}`, { inChannels: l === 0 ? prev : out, outChannels: out, groups: v.groups, eps: EPS, tembChannels: null }, null);
    }
    if (i < reversed.length - 1) h = upsample(g, h, `decoder.up_blocks.${i}.upsamplers.0`, out);
    prev = out;
  });
  h = silu(g, groupNorm(g, h, 'decoder.conv_norm_out', v.channels[0]!, v.groups, EPS));
  h = conv2d(g, h, 'decoder.conv_out', v.channels[0]!, v.outChannels, 3);
  g.output('sample', h, 'float32', ['batch_size', v.outChannels, 'height', 'width']);
}
