/**
 * kohya's sgm/LDM names for SDXL's UNet (layers_per_block 2; down blocks DownBlock2D,
 * CrossAttnDownBlock2D x2; up blocks CrossAttnUpBlock2D x2, UpBlock2D). The expected names are
 * the positions of stabilityai's original UNet (sgm's openaimodel: input_blocks 1-8, middle_block
 * 0-2, output_blocks 0-8), the same that diffusers' _maybe_map_sgm_blocks_to_diffusers maps from.
 */
import { describe, expect, it } from 'vitest';
import { kohyaNameIndex, sgmModulePath, unetLayout } from './kohya-names.js';

const SDXL = unetLayout({
  layers_per_block: 2,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
})!;

describe('sgm names of SDXL UNet modules', () => {
  it.each([
    ['conv_in', 'input_blocks.0.0'],
    ['down_blocks.0.resnets.0.conv1', 'input_blocks.1.0.in_layers.2'],
    ['down_blocks.0.resnets.1.time_emb_proj', 'input_blocks.2.0.emb_layers.1'],
    ['down_blocks.0.downsamplers.0.conv', 'input_blocks.3.0.op'],
    ['down_blocks.1.resnets.0.conv_shortcut', 'input_blocks.4.0.skip_connection'],
    ['down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q', 'input_blocks.4.1.transformer_blocks.0.attn1.to_q'],
    ['down_blocks.1.attentions.1.proj_in', 'input_blocks.5.1.proj_in'],
    ['down_blocks.1.downsamplers.0.conv', 'input_blocks.6.0.op'],
    ['down_blocks.2.attentions.1.transformer_blocks.9.ff.net.2', 'input_blocks.8.1.transformer_blocks.9.ff.net.2'],
    ['mid_block.resnets.0.conv2', 'middle_block.0.out_layers.3'],
    ['mid_block.attentions.0.transformer_blocks.0.attn2.to_k', 'middle_block.1.transformer_blocks.0.attn2.to_k'],
    ['mid_block.resnets.1.conv1', 'middle_block.2.in_layers.2'],
    ['up_blocks.0.resnets.0.conv1', 'output_blocks.0.0.in_layers.2'],
    ['up_blocks.0.attentions.2.proj_out', 'output_blocks.2.1.proj_out'],
    ['up_blocks.0.upsamplers.0.conv', 'output_blocks.2.2.conv'],
    ['up_blocks.1.attentions.0.transformer_blocks.1.attn1.to_out.0', 'output_blocks.3.1.transformer_blocks.1.attn1.to_out.0'],
    ['up_blocks.1.upsamplers.0.conv', 'output_blocks.5.2.conv'],
    ['up_blocks.2.resnets.2.conv_shortcut', 'output_blocks.8.0.skip_connection'],
    ['conv_out', 'out.2'],
    ['time_embedding.linear_1', 'time_embed.0'],
    ['add_embedding.linear_2', 'label_emb.0.2'],
  ])('%s is %s', (module, sgm) => {
    expect(sgmModulePath(module, SDXL)).toBe(sgm);
  });

  it('puts the upsampler of an up block without attention at position 1', () => {
    const layout = unetLayout({ layers_per_block: 1, down_block_types: ['DownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'UpBlock2D'] })!;
    expect(sgmModulePath('up_blocks.0.upsamplers.0.conv', layout)).toBe('output_blocks.1.1.conv');
  });

  it('indexes both spellings and nothing else', () => {
    const index = kohyaNameIndex(['down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0', 'text_model.encoder.layers.0.mlp.fc1'], SDXL);
    expect(index.get('input_blocks_4_1_transformer_blocks_0_attn1_to_out_0')).toBe('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0');
    expect(index.get('down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0')).toBe('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0');
    expect(index.get('text_model_encoder_layers_0_mlp_fc1')).toBe('text_model.encoder.layers.0.mlp.fc1');
    expect(index.size).toBe(3);
  });
});
