/**
 * PIL's `Image.reduce(factor, box)`: the mean of each `xFactor x yFactor`
 * block of the box (the last column and row average what is left), in PIL's
 * integer arithmetic. `resize(..., reducing_gap=g)` runs it before the
 * convolution when it shrinks by at least twice `g`.
 */
import { ImageInputError } from './image-errors.js';
import type { RgbImage } from './rgb-image.js';

/** A box of whole pixels: left, top, right, bottom. */
export type PixelBox = readonly [left: number, top: number, right: number, bottom: number];

/**
 * The 8.24 fixed-point reciprocal of `count` pixels, as PIL computes it: 2^32 / (256 * count)
 * divided in C floats (both operands and the quotient rounded to float32), then truncated.
 */
function reciprocal(count: number): number {
  return Math.trunc(Math.fround(4294967296 / Math.fround(256 * count)));
}

export function reducePil(image: RgbImage, xFactor: number, yFactor: number, box: PixelBox): RgbImage {
  const [left, top, right, bottom] = box;
  if (!Number.isInteger(xFactor) || !Number.isInteger(yFactor) || xFactor < 1 || yFactor < 1) {
    throw new ImageInputError(`Reduce factors must be positive integers, got ${xFactor} and ${yFactor}.`);
  }
  if (![left, top, right, bottom].every(Number.isInteger) || left < 0 || top < 0 || right > image.width || bottom > image.height) {
    throw new ImageInputError(`The reduce box ${JSON.stringify(box)} must be whole pixels inside the ${image.width}x${image.height} image.`);
  }
  if (right <= left || bottom <= top) {
    throw new ImageInputError(`The reduce box ${JSON.stringify(box)} is empty; PIL cannot reduce it (drop reducing_gap for this resize).`);
  }
  const { channels, data } = image;
  const boxWidth = right - left;
  const boxHeight = bottom - top;
  const width = Math.ceil(boxWidth / xFactor);
  const height = Math.ceil(boxHeight / yFactor);
  const out = new Uint8Array(width * height * channels);
  const sums = new Float64Array(channels);
  for (let y = 0; y < height; y++) {
    const y0 = top + y * yFactor;
    const y1 = Math.min(y0 + yFactor, bottom);
    for (let x = 0; x < width; x++) {
      const x0 = left + x * xFactor;
      const x1 = Math.min(x0 + xFactor, right);
      const count = (x1 - x0) * (y1 - y0);
      sums.fill(Math.floor(count / 2));
      for (let yy = y0; yy < y1; yy++) {
        let p = (yy * image.width + x0) * channels;
        for (let xx = x0; xx < x1; xx++) {
          for (let c = 0; c < channels; c++) sums[c]! += data[p++]!;
        }
      }
      const multiplier = reciprocal(count);
      const o = (y * width + x) * channels;
      // (sum * multiplier) >> 24 in unsigned 32-bit; the product stays below 2^32.
      for (let c = 0; c < channels; c++) out[o + c] = Math.floor((sums[c]! * multiplier) / 16777216);
    }
  }
  return { width, height, channels, data: out };
}
