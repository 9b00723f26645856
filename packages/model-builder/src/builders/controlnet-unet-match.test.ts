/**
 * checkControlNetMatchesUNet on configs shaped like the published ones:
 * stabilityai/stable-diffusion-xl-base-1.0's UNet and
 * diffusers/controlnet-canny-sdxl-1.0 (the keys that decide the residual
 * layout and the inputs), an SD 1.5 ControlNet (lllyasviel/sd-controlnet-canny),
 * and SDXL ControlNets for another size.
 */
import { describe, expect, it } from 'vitest';
import { ArchitectureMismatchError, checkControlNetMatchesUNet } from './controlnet-unet-match.js';

const SDXL_UNET = {
  _class_name: 'UNet2DConditionModel',
  addition_embed_type: 'text_time',
  addition_time_embed_dim: 256,
  block_out_channels: [320, 640, 1280],
  cross_attention_dim: 2048,
  in_channels: 4,
  layers_per_block: 2,
  out_channels: 4,
  projection_class_embeddings_input_dim: 2816,
};
const SDXL_CANNY = {
  _class_name: 'ControlNetModel',
  addition_embed_type: 'text_time',
  addition_time_embed_dim: 256,
  block_out_channels: [320, 640, 1280],
  cross_attention_dim: 2048,
  in_channels: 4,
  layers_per_block: 2,
  projection_class_embeddings_input_dim: 2816,
};
// lllyasviel/sd-controlnet-canny leaves block_out_channels and layers_per_block to their defaults.
const SD15_CANNY = { _class_name: 'ControlNetModel', cross_attention_dim: 768, in_channels: 4 };

const unet = (config: Record<string, unknown>) => ({ config, file: '/repo/unet/config.json' });
const controlnet = (config: Record<string, unknown>) => ({ config, file: '/cn/config.json' });

function mismatch(config: Record<string, unknown>, against = SDXL_UNET): ArchitectureMismatchError {
  try {
    checkControlNetMatchesUNet(controlnet(config), unet(against));
  } catch (error) {
    if (error instanceof ArchitectureMismatchError) return error;
    throw error;
  }
  throw new Error('no mismatch reported');
}

describe('checkControlNetMatchesUNet', () => {
  it('accepts an SDXL ControlNet for the SDXL UNet (layers_per_block as an int or one per block)', () => {
    expect(() => checkControlNetMatchesUNet(controlnet(SDXL_CANNY), unet(SDXL_UNET))).not.toThrow();
    expect(() => checkControlNetMatchesUNet(controlnet({ ...SDXL_CANNY, layers_per_block: [2, 2, 2] }), unet(SDXL_UNET))).not.toThrow();
  });

  it('refuses an SD 1.5 ControlNet, naming its config.json and addition_embed_type', () => {
    const error = mismatch(SD15_CANNY);
    expect(error.file).toBe('/cn/config.json');
    expect(error.key).toBe('addition_embed_type');
    expect(error.message).toBe(
      `/cn/config.json: 'addition_embed_type' is null but the UNet's (/repo/unet/config.json) is "text_time": this ControlNet was made for another ` +
        `architecture (an SD 1.x/2.x ControlNet has no "text_time" embedding and 768/1024-wide cross attention; SDXL's has "text_time" and 2048). ` +
        `Load a ControlNet trained for this UNet.`,
    );
  });

  it.each([
    ['cross_attention_dim', { cross_attention_dim: 1280 }],
    ['block_out_channels', { block_out_channels: [320, 640, 1280, 1280] }],
    ['layers_per_block', { layers_per_block: 1 }],
    ['projection_class_embeddings_input_dim', { projection_class_embeddings_input_dim: 2560 }],
    ['in_channels', { in_channels: 9 }],
  ])('names %s when it differs', (key, change) => {
    expect(mismatch({ ...SDXL_CANNY, ...change }).key).toBe(key);
  });

  it("compares a key the ControlNet's config leaves out as diffusers' default", () => {
    const { block_out_channels: _dropped, ...withoutChannels } = SDXL_CANNY;
    const error = mismatch(withoutChannels);
    expect(error.key).toBe('block_out_channels');
    expect(error.message).toContain('is [320,640,1280,1280] but');
  });

  it("takes the ControlNet's latents to be the inpainting UNet's out_channels, not its 9 input channels", () => {
    expect(() => checkControlNetMatchesUNet(controlnet(SDXL_CANNY), unet({ ...SDXL_UNET, in_channels: 9 }))).not.toThrow();
  });
});
