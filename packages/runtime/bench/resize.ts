/**
 * Resizing a 1024x1024 RGB image as diffusers' VaeImageProcessor does (PIL's
 * algorithm, bit for bit, in TypeScript) next to sharp's libvips resize,
 * which is faster but gives other pixels. Median of several runs after a
 * warmup. Run directly:
 *   node --conditions=source --import tsx packages/runtime/bench/resize.ts
 */
import { pathToFileURL } from 'node:url';
import { resizeImageSync, resizeImageWithSharp, type ResampleFilter } from '../src/image/resize-image.js';
import type { RgbImage } from '../src/image/rgb-image.js';

export interface ResizeBenchRow {
  name: string;
  shape: string;
  ms: number;
  note?: string;
}

const WARMUP = 2;
const RUNS = 9;

async function time(run: () => unknown): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]! * 1000) / 1000;
}

/** A photo-like test card: smooth gradients with hard edges and some texture. */
function testImage(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0, o = 0; y < size; y++) {
    for (let x = 0; x < size; x++, o += 3) {
      const edge = ((x >> 5) + (y >> 5)) % 2 ? 60 : 0;
      data[o] = ((x * 255) / size + edge) & 255;
      data[o + 1] = ((y * 255) / size + edge) & 255;
      data[o + 2] = (x * 7 + y * 13) & 255;
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** How many bytes differ between the two results, and by how much at most. */
function difference(a: RgbImage, b: RgbImage): string {
  let count = 0;
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (d > 0) count++;
    if (d > worst) worst = d;
  }
  return `sharp differs from PIL in ${((100 * count) / a.data.length).toFixed(1)}% of bytes, by up to ${worst}`;
}

export async function benchResize(): Promise<ResizeBenchRow[]> {
  const image = testImage(1024);
  const cases: Array<[ResampleFilter, number, string]> = [
    ['lanczos', 768, 'down'],
    ['lanczos', 1536, 'up'],
    ['bilinear', 768, 'down'],
  ];
  const rows: ResizeBenchRow[] = [];
  for (const [filter, size, direction] of cases) {
    const shape = `1024x1024x3 -> ${size}x${size}`;
    const pil = resizeImageSync(image, size, size, filter);
    const viaSharp = await resizeImageWithSharp(image, size, size, filter);
    rows.push({ name: `resize ${filter} ${direction}, PIL-exact (TS)`, shape, ms: await time(() => resizeImageSync(image, size, size, filter)) });
    rows.push({
      name: `resize ${filter} ${direction}, sharp`,
      shape,
      ms: await time(() => resizeImageWithSharp(image, size, size, filter)),
      note: difference(pil, viaSharp),
    });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await benchResize()) console.log(`${row.name.padEnd(40)} ${row.shape.padEnd(24)} ${row.ms.toFixed(3).padStart(10)} ms  ${row.note ?? ''}`);
}
