import { describe, expect, it } from 'vitest';
import { ImageInputError } from './image-errors.js';
import { assertRgbImage, toGrayscale, toRgb, type RgbImage } from './rgb-image.js';

const rgb = (...pixels: number[][]): RgbImage => ({ width: pixels.length, height: 1, channels: 3, data: Uint8Array.from(pixels.flat()) });

describe('toGrayscale (PIL convert("L"))', () => {
  it('uses ITU-R 601-2 luma in PIL fixed point, (R*19595 + G*38470 + B*7471 + 32768) >> 16', () => {
    // red: (255*19595 + 32768) / 65536 = 76.74 -> 76; green: 150.19 -> 150; blue: 29.57 -> 29;
    // (10,20,30): 10*.299 + 20*.587 + 30*.114 = 18.15 -> 18; white stays 255 since the weights sum to 65536.
    const gray = toGrayscale(rgb([255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [255, 255, 255]));
    expect(gray.channels).toBe(1);
    expect(Array.from(gray.data)).toEqual([76, 150, 29, 18, 255]);
  });

  it('rounds half up like PIL: (1,1,1) gives exactly 65536/65536 + 0.5 -> 1', () => {
    expect(Array.from(toGrayscale(rgb([1, 1, 1], [0, 1, 0])).data)).toEqual([1, 1]); // 38470+32768 >= 65536
  });

  it('toRgb repeats the grey value', () => {
    const back = toRgb({ width: 2, height: 1, channels: 1, data: Uint8Array.from([7, 200]) });
    expect(Array.from(back.data)).toEqual([7, 7, 7, 200, 200, 200]);
  });
});

describe('assertRgbImage', () => {
  it('explains what is wrong', () => {
    expect(() => assertRgbImage({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).toThrow(/12|width\*height\*channels/);
    expect(() => assertRgbImage({ width: 0, height: 0, channels: 3, data: new Uint8Array(0) })).toThrow(/at least one pixel/);
    expect(() => assertRgbImage('cat.png')).toThrow(ImageInputError);
    expect(() => assertRgbImage('cat.png')).toThrow(/loadImage/);
  });
});
