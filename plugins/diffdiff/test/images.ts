/** Synthetic inputs for the diff-diff tests: flat colours and change maps (1-channel 8-bit images). */
import type { RgbImage } from '@modular-diffusers/runtime';

export const RED: readonly [number, number, number] = [200, 40, 40];

export function solid(size: number, colour: readonly number[] = RED): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) data.set(colour, p * 3);
  return { width: size, height: size, channels: 3, data };
}

/** A change map whose value at column x is `value(x)` (0..255), the same on every row. */
export function changeMap(size: number, value: (x: number) => number): RgbImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = value(x);
  return { width: size, height: size, channels: 1, data };
}

/** Black on the left half, white on the right half. */
export const blackLeftWhiteRight = (size: number) => changeMap(size, (x) => (x < size / 2 ? 0 : 255));
/** 0 at the left edge to 255 at the right edge. */
export const horizontalGradient = (size: number) => changeMap(size, (x) => Math.round((255 * x) / (size - 1)));
