/** Synthetic images for the pipeline tests: two flat halves, and a half mask. */
import type { RgbImage } from '@modular-diffusers/runtime';

export const RED: readonly [number, number, number] = [200, 40, 40];
export const BLUE: readonly [number, number, number] = [40, 40, 200];

/** Left half `left`, right half `right`. */
export function halves(size: number, left: readonly number[] = RED, right: readonly number[] = BLUE): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data.set(x < size / 2 ? left : right, (y * size + x) * 3);
  }
  return { width: size, height: size, channels: 3, data };
}

/** A 1-channel mask: white (repaint) on the right half. */
export function rightHalfMask(width: number, height = width): RgbImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x < width / 2 ? 0 : 255;
  return { width, height, channels: 1, data };
}

export function pixel(image: RgbImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(i, i + image.channels));
}
