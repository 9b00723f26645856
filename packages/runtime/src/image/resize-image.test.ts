import { describe, expect, it } from 'vitest';
import { ImageInputError } from './image-errors.js';
import { resizeImage } from './resize-image.js';
import type { RgbImage } from './rgb-image.js';

const grayRow = (values: number[]): RgbImage => ({ width: values.length, height: 1, channels: 1, data: Uint8Array.from(values) });

describe('resizeImage', () => {
  it('nearest samples pixel centres like PIL: source = floor((x + 0.5) * in / out)', async () => {
    const row = grayRow([0, 10, 20, 30, 40, 50, 60, 70]);
    // 8 -> 4: x = 0..3 reads 1, 3, 5, 7.
    expect(Array.from((await resizeImage(row, 4, 1, 'nearest')).data)).toEqual([10, 30, 50, 70]);
    // 8 -> 3: scale 8/3, reads floor(1.33) = 1, floor(4) = 4, floor(6.67) = 6.
    expect(Array.from((await resizeImage(row, 3, 1, 'nearest')).data)).toEqual([10, 40, 60]);
  });

  it('nearest upscaling by 2 repeats every pixel', async () => {
    const image: RgbImage = { width: 2, height: 2, channels: 3, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) };
    const big = await resizeImage(image, 4, 4, 'nearest');
    expect(big.channels).toBe(3);
    const at = (x: number, y: number) => Array.from(big.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect([at(0, 0), at(1, 1), at(2, 0), at(3, 3), at(0, 3)]).toEqual([[1, 2, 3], [1, 2, 3], [4, 5, 6], [10, 11, 12], [7, 8, 9]]);
  });

  it('keeps a constant image constant with every filter (the kernels are normalised)', async () => {
    const flat: RgbImage = { width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3).fill(77) };
    for (const filter of ['lanczos', 'bicubic', 'bilinear', 'nearest'] as const) {
      const out = await resizeImage(flat, 5, 3, filter);
      expect([out.width, out.height, out.channels], filter).toEqual([5, 3, 3]);
      expect(new Set(out.data), filter).toEqual(new Set([77]));
    }
  });

  it('bilinear downscale matches PIL exactly away from the border, within 2 levels at it', async () => {
    // PIL bilinear 8 -> 4 widens the triangle to support 2: output x reads centre (x + 0.5) * 2 with
    // weights .25 .75 .75 .25 on the four nearest pixels. x = 1: (10*.25 + 20*.75 + 30*.75 + 40*.25) / 2 = 25;
    // x = 2: 45. At x = 0 PIL drops the weight outside and renormalises: (0*.75 + 10*.75 + 20*.25) / 1.75 = 7.14 -> 7;
    // x = 3 likewise 62.86 -> 63. libvips treats the cut kernel differently, hence the tolerance there.
    const out = Array.from((await resizeImage(grayRow([0, 10, 20, 30, 40, 50, 60, 70]), 4, 1, 'bilinear')).data);
    expect(out.slice(1, 3)).toEqual([25, 45]);
    expect(Math.abs(out[0]! - 7)).toBeLessThanOrEqual(2);
    expect(Math.abs(out[3]! - 63)).toBeLessThanOrEqual(2);
  });

  it('returns the same image when the size does not change, and rejects bad sizes and filters', async () => {
    const row = grayRow([1, 2]);
    expect(await resizeImage(row, 2, 1)).toBe(row);
    await expect(resizeImage(row, 0, 1)).rejects.toThrow(ImageInputError);
    await expect(resizeImage(row, 1, 1, 'box' as never)).rejects.toThrow(/lanczos, bicubic/);
  });
});
