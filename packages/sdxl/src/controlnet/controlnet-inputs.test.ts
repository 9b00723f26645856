import { describe, expect, it } from 'vitest';
import { Tensor, VaeImageProcessor, type RgbImage } from '@modular-diffusers/runtime';
import { prepareControlImage } from './controlnet-inputs.js';

// diffusers' control_image_processor config.
const processor = new VaeImageProcessor({ vae_scale_factor: 8, do_convert_rgb: true, do_normalize: false });
const batch = { batchSize: 1, numImagesPerPrompt: 1 };

/** 32 wide, 8 tall, each row a different grey. */
const bands: RgbImage = { width: 32, height: 8, channels: 3, data: Uint8Array.from({ length: 32 * 8 * 3 }, (_, i) => 20 + 25 * Math.floor(i / 96)) };

describe('prepareControlImage with crops_coords', () => {
  it("crops, then resizes with diffusers' resize_mode 'fill' (fit, centre, extend the edge rows), not a stretch", async () => {
    // The 32x8 crop fits 16x16 as 16x4, centred with 6-row bars above and below.
    const out = await prepareControlImage(processor, bands, { height: 16, width: 16 }, batch, [0, 0, 32, 8]);
    expect(out.shape).toEqual([1, 3, 16, 16]);
    const row = (y: number) => Array.from((out.data as Float32Array).subarray(y * 16, y * 16 + 16));
    // Each bar is one row repeated; a stretch would give 16 different rows.
    for (let y = 1; y < 6; y++) expect(row(y)).toEqual(row(0));
    for (let y = 11; y < 16; y++) expect(row(y)).toEqual(row(10));
    expect(row(6)).not.toEqual(row(0));
    expect(out.data).toEqual((await processor.preprocess(bands, { height: 16, width: 16, cropsCoords: [0, 0, 32, 8], resizeMode: 'fill' })).data);
  });

  it('rejects bad crops_coords, and crops_coords with tensor control images (diffusers cannot fill tensors either)', async () => {
    await expect(prepareControlImage(processor, bands, { height: 16, width: 16 }, batch, [0, 0, 32])).rejects.toThrow(/crops_coords must be/);
    const tensor = new Tensor('float32', new Float32Array(3 * 16 * 16), [1, 3, 16, 16]);
    await expect(prepareControlImage(processor, tensor, { height: 16, width: 16 }, batch, [0, 0, 8, 8])).rejects.toThrow(/images only/);
  });
});
