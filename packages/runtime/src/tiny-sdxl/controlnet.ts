/**
 * The tiny SDXL ControlNet: it turns the control image into the latent the
 * tiny VAE would encode it to (its "layout") and hands that down, scaled by
 * conditioning_scale, at three resolutions plus a mid-block copy:
 *
 *   L   = P · (avgpool8(2·controlnet_cond − 1) − bias)        [b, 4, h, w]
 *   down_block_res_samples_0 = s·L                             [b, 4, h, w]
 *   down_block_res_samples_1 = s·avgpool2(L)                   [b, 4, h/2, w/2]
 *   down_block_res_samples_2 = s·avgpool4(L)                   [b, 4, h/4, w/4]
 *   mid_block_res_sample     = s·avgpool4(L)                   [b, 4, h/4, w/4]
 *
 * (controlnet_cond is in [0, 1] as diffusers' ControlNet image processor
 * leaves it.) unet_controlnet adds the mean of the upsampled residuals to its
 * target, so a scale-1 run paints the control image's colours over the
 * prompt's. sample, timestep, encoder_hidden_states, text_embeds and time_ids
 * are part of the real signature and must be fed; the tiny model ignores them.
 * Height and width must be multiples of 32 (latent multiples of 4).
 */
import { GraphBuilder, type GraphPrecision } from '../onnx/builder/graph-builder.js';
import { averagePool, channelMix } from './graph-parts.js';
import { rgbToLatentMatrix, SDXL_LATENT_RGB_BIAS } from './latent-rgb.js';
import { UNET_CONTEXT_DIM, UNET_TEXT_DIM, UNET_TIME_IDS } from './unet.js';

export const CONTROLNET_DOWN_RESIDUALS = 3;

export function buildTinyControlNet(options: { precision?: GraphPrecision } = {}): GraphBuilder {
  const g = new GraphBuilder('controlnet', options);
  g.input('sample', 'float32', ['batch_size', 4, 'height', 'width']);
  g.input('timestep', 'float32', ['steps']);
  g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', UNET_CONTEXT_DIM]);
  const cond = g.input('controlnet_cond', 'float32', ['batch_size', 3, 'image_height', 'image_width']);
  const scale = g.input('conditioning_scale', 'float32', [1]);
  g.input('text_embeds', 'float32', ['batch_size', UNET_TEXT_DIM]);
  g.input('time_ids', 'float32', ['batch_size', UNET_TIME_IDS]);

  const rgb = g.op('Sub', [g.op('Mul', [cond, g.constFloat([2], [])]), g.constFloat([1], [])]);
  const centred = g.op('Sub', [averagePool(g, rgb, 8), g.constFloat(SDXL_LATENT_RGB_BIAS, [1, 3, 1, 1])]);
  const layout = g.op('Mul', [channelMix(g, centred, rgbToLatentMatrix(), 4, 3), scale]);
  const quarter = averagePool(g, layout, 4);

  g.output('down_block_res_samples_0', layout, 'float32', ['batch_size', 4, 'height', 'width']);
  g.output('down_block_res_samples_1', averagePool(g, layout, 2), 'float32', ['batch_size', 4, 'height_2', 'width_2']);
  g.output('down_block_res_samples_2', quarter, 'float32', ['batch_size', 4, 'height_4', 'width_4']);
  g.output('mid_block_res_sample', g.op('Identity', [quarter]), 'float32', ['batch_size', 4, 'height_4', 'width_4']);
  return g;
}
