import { describe, expect, it } from 'vitest';
import { ImageInputError } from './image-errors.js';
import { resizeImage, resizeImageSync, resizeImageWithSharp } from './resize-image.js';
import type { RgbImage } from './rgb-image.js';

const grayRow = (values: number[]): RgbImage => ({ width: values.length, height: 1, channels: 1, data: Uint8Array.from(values) });

describe('resizeImage (PIL\'s resize)', () => {
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

  it('bilinear downscale renormalises the cut kernel at the border, as PIL does', async () => {
    // PIL bilinear 8 -> 4 widens the triangle to support 2: output x reads centre (x + 0.5) * 2 with
    // weights .25 .75 .75 .25 on the four nearest pixels. x = 1: (10*.25 + 20*.75 + 30*.75 + 40*.25) / 2 = 25;
    // x = 2: 45. At x = 0 PIL drops the weight outside and renormalises: (0*.75 + 10*.75 + 20*.25) / 1.75 = 7.14 -> 7;
    // x = 3 likewise 62.86 -> 63.
    const out = Array.from((await resizeImage(grayRow([0, 10, 20, 30, 40, 50, 60, 70]), 4, 1, 'bilinear')).data);
    expect(out).toEqual([7, 25, 45, 63]);
  });

  it('bilinear 2x upscale: the outer output pixels read one source pixel (worked from PIL\'s windows)', () => {
    // 2 -> 4: centres 0.25, 0.75, 1.25, 1.75; windows [trunc(c - 0.5), trunc(c + 1.5)) cut to the image.
    // x = 0 reads only pixel 0 -> 0; x = 1: 0 * .75 + 100 * .25 = 25; x = 2: 75; x = 3 reads only pixel 1 -> 100.
    expect(Array.from(resizeImageSync(grayRow([0, 100]), 4, 1, 'bilinear').data)).toEqual([0, 25, 75, 100]);
    expect(resizeImageSync(grayRow([0, 100]), 4, 1, 'linear').data).toEqual(resizeImageSync(grayRow([0, 100]), 4, 1, 'bilinear').data);
  });

  it('passes box and reducingGap through to PIL\'s resize', () => {
    const row = grayRow([0, 10, 20, 30, 40, 50, 60, 70]);
    // box [2, 0, 6, 1] at its own size is a crop.
    expect(Array.from(resizeImageSync(row, 4, 1, 'lanczos', { box: [2, 0, 6, 1] }).data)).toEqual([20, 30, 40, 50]);
    // reducing_gap 1 on 8 -> 2: factor trunc(8 / 2 / 1) = 4, so PIL first averages blocks of four,
    // (sum + 2) >> 2: (60 + 2) >> 2 = 15 and (220 + 2) >> 2 = 55, and the remaining 2 -> 2 is a copy.
    // In one pass the bilinear (support 4) gives 19 and 51 instead.
    expect(Array.from(resizeImageSync(row, 2, 1, 'bilinear', { reducingGap: 1 }).data)).toEqual([15, 55]);
    expect(Array.from(resizeImageSync(row, 2, 1, 'bilinear').data)).toEqual([19, 51]);
    expect(() => resizeImageSync(row, 2, 1, 'bilinear', { reducingGap: 0.5 })).toThrow(/1.0 or greater/);
    expect(() => resizeImageSync(row, 2, 1, 'bilinear', { box: [0, 0, 9, 1] })).toThrow(/outside/);
  });

  it('the explicit sharp route resizes too, but not like PIL (why the pipelines do not use it)', async () => {
    const checker: RgbImage = { width: 8, height: 8, channels: 1, data: Uint8Array.from({ length: 64 }, (_, i) => ((i % 8) + (i >> 3)) % 2 ? 255 : 0) };
    const viaSharp = await resizeImageWithSharp(checker, 16, 16, 'lanczos');
    expect([viaSharp.width, viaSharp.height, viaSharp.channels]).toEqual([16, 16, 1]);
    expect(viaSharp.data).not.toEqual(resizeImageSync(checker, 16, 16, 'lanczos').data);
  });

  it('returns the same image when the size does not change, and rejects bad sizes and filters', async () => {
    const row = grayRow([1, 2]);
    expect(await resizeImage(row, 2, 1)).toBe(row);
    await expect(resizeImage(row, 0, 1)).rejects.toThrow(ImageInputError);
    await expect(resizeImage(row, 1, 1, 'box' as never)).rejects.toThrow(/lanczos, bicubic/);
  });
});
