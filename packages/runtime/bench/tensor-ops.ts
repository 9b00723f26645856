/**
 * Timings of the tensor arithmetic one denoising step does, on latent
 * shapes of a 1024x1024 SDXL image (128x128 latents) at batch 1 and 2.
 * Each row is the median of several runs after a warmup.
 *
 * Run: node --conditions=source --import tsx packages/runtime/bench/tensor-ops.ts
 */
import { pathToFileURL } from 'node:url';
import {
  Generator,
  Tensor,
  addScaled,
  addScaledInPlace,
  cast,
  chunk,
  div,
  mix,
  sub,
} from '../src/tensor-entry.js';

export interface Row {
  name: string;
  shape: string;
  ms: number;
}

const WARMUP = 3;
const RUNS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run: () => unknown): number {
  for (let i = 0; i < WARMUP; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return Math.round(median(samples) * 1000) / 1000;
}

export async function benchTensorOps(): Promise<Row[]> {
  const rows: Row[] = [];
  const generator = new Generator(0);
  for (const batch of [1, 2]) {
    const shape = [batch, 4, 128, 128];
    const label = shape.join('x');
    const sample = generator.randn(shape) as Tensor<'float32'>;
    const predX0 = generator.randn(shape) as Tensor<'float32'>;
    const original = generator.randn(shape) as Tensor<'float32'>;
    const noisePred = generator.randn([2 * batch, 4, 128, 128]) as Tensor<'float32'>;
    const mask = generator.rand([1, 1, 128, 128]) as Tensor<'float32'>;
    const sigma = 14.6;
    const sigmaNext = 12.1;

    rows.push({
      name: 'guidance combine: uncond + s*(cond - uncond)',
      shape: label,
      ms: time(() => {
        const [uncond, cond] = chunk(noisePred, 2);
        return addScaled(uncond, sub(cond, uncond), 7.5);
      }),
    });
    rows.push({
      name: 'euler step: x + (s1 - s0) * (x - x0) / s0',
      shape: label,
      ms: time(() => {
        const x = sample.clone();
        const derivative = div(sub(x, predX0), sigma);
        return addScaledInPlace(x, derivative, sigmaNext - sigma);
      }),
    });
    rows.push({
      name: 'mask blend: original*m + latents*(1-m), m [1,1,128,128]',
      shape: label,
      ms: time(() => mix(sample, original, mask)),
    });
    rows.push({ name: 'randn (torch CPU algorithm)', shape: label, ms: time(() => generator.randn(shape)) });
    const half = cast(sample, 'float16');
    rows.push({ name: 'float32 -> float16', shape: label, ms: time(() => cast(sample, 'float16')) });
    rows.push({ name: 'float16 -> float32', shape: label, ms: time(() => cast(half, 'float32')) });
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 4);
  const shapeWidth = Math.max(...rows.map((r) => r.shape.length), 5);
  console.log(`${'op'.padEnd(nameWidth)}  ${'shape'.padEnd(shapeWidth)}  median ms`);
  for (const r of rows) console.log(`${r.name.padEnd(nameWidth)}  ${r.shape.padEnd(shapeWidth)}  ${r.ms.toFixed(3).padStart(9)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await benchTensorOps());
}
