/**
 * The developer guide's input pictures, drawn (this machine may have no internet): a red apple on a
 * light table, and a change map that keeps the left half (white), changes the right half (black)
 * and fades between them across the middle fifth. `npm run demo` writes them to out/demo/, where
 * the README's `modular run ... --image out/demo/apple.png --set diffdiff_map=out/demo/gradient_mask.png`
 * reads them.
 */
import { join } from 'node:path';
import { saveImage, type RgbImage } from '@modular-diffusers/runtime';

export function drawApple(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c * 1.1) ** 2 < (size * 0.32) ** 2;
      data.set(inside ? [196, 30, 40] : [235, 225, 205], (y * size + x) * 3);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

export function drawGradientMap(size: number): RgbImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = Math.round(255 * Math.min(1, Math.max(0, (0.6 - x / (size - 1)) / 0.2)));
  return { width: size, height: size, channels: 1, data };
}


export function guideImages(size: number): { image: RgbImage; mask: RgbImage } {
  return { image: drawApple(size), mask: drawGradientMap(size) };
}

/** Writes `apple.png` and `gradient_mask.png` into `dir`; returns their paths. */
export async function writeGuideImages(dir: string, size: number): Promise<{ imagePath: string; maskPath: string }> {
  const { image, mask } = guideImages(size);
  const imagePath = join(dir, 'apple.png');
  const maskPath = join(dir, 'gradient_mask.png');
  await saveImage(image, imagePath);
  await saveImage(mask, maskPath);
  return { imagePath, maskPath };
}
