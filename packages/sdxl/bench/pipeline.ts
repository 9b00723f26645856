/**
 * The engine's own cost: a text-to-image run of TEXT2IMAGE_BLOCKS on the
 * tiny SDXL repo at 1024x1024 (128x128 latents), classifier-free guidance
 * (one UNet run of batch 2 per step), timed as a whole and next to the sum
 * of ONNX session.run time. Everything that is not session.run is overhead;
 * per denoise step it is the step time minus the UNet's run. The overhead is
 * then split: numeric work done in TypeScript (scheduler and guider
 * arithmetic, seeded noise, image post-processing), timed by wrapping those
 * methods, and what remains: the engine's own bookkeeping (block dispatch,
 * state and parameter handling) plus the tensor glue between blocks
 * (stacking and splitting the guider's batches). The tiny UNet runs in about
 * a millisecond, so the numeric work weighs as much as the model here; with
 * a real SDXL UNet (seconds per step) the same milliseconds are well under 1%.
 * Run directly:
 *   node --conditions=source --import tsx packages/sdxl/bench/pipeline.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { Generator, OnnxModel, generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';

export interface PipelineBenchRow {
  name: string;
  shape?: string;
  ms?: number;
  value?: string;
  note?: string;
}

interface RunTiming {
  totalMs: number;
  onnxMs: number;
  onnxRuns: number;
  /** Scheduler, guider, noise and image processing time (the wrapped methods). */
  numericMs: number;
  /** Median over steps 2..n of (step wall time - session.run time inside it). */
  stepOverheadMs: number;
  stepMs: number;
}

export async function benchSdxlPipeline(options: { steps?: number; size?: number; repeats?: number } = {}): Promise<PipelineBenchRow[]> {
  const steps = options.steps ?? 10;
  const size = options.size ?? 1024;
  const repeats = options.repeats ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'bench-sdxl-'));
  const originalRun = OnnxModel.prototype.run;
  try {
    await generateTinySdxlRepo(join(dir, 'repo'));
    const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
    const pipe = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(join(dir, 'repo'), {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registry,
      logger: silentLogger,
    });
    await pipe.loadComponents();

    // Every session.run, timed: [start, end] in performance.now() time.
    let runs: Array<[number, number]> = [];
    OnnxModel.prototype.run = async function (this: OnnxModel, ...args: Parameters<OnnxModel['run']>) {
      const start = performance.now();
      try {
        return await originalRun.apply(this, args);
      } finally {
        runs.push([start, performance.now()]);
      }
    };
    // Numeric TypeScript work, timed by wrapping the methods that do it.
    let numericMs = 0;
    const timed = (target: object, method: string) => {
      const original = (target as Record<string, unknown>)[method] as (...a: unknown[]) => unknown;
      (target as Record<string, unknown>)[method] = function (this: unknown, ...a: unknown[]) {
        const start = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          numericMs += performance.now() - start;
        }
      };
    };
    const components = pipe as unknown as Record<string, object>;
    for (const method of ['step', 'scaleModelInput', 'setTimesteps']) timed(components.scheduler!, method);
    for (const method of ['prepareInputs', 'call']) timed(components.guider!, method);
    timed(components.image_processor!, 'postprocess');
    const generatorPrototype = Generator.prototype as unknown as Record<string, unknown>;
    const originalRandn = generatorPrototype.randn;
    timed(Generator.prototype, 'randn');

    const once = async (): Promise<RunTiming> => {
      runs = [];
      numericMs = 0;
      const stepEnds: number[] = [];
      const start = performance.now();
      await pipe(
        { prompt: 'a red apple', height: size, width: size, num_inference_steps: steps, generator: new Generator(0), output: 'images' },
        { onProgress: () => stepEnds.push(performance.now()) },
      );
      const totalMs = performance.now() - start;
      const onnxMs = runs.reduce((sum, [a, b]) => sum + (b - a), 0);
      const perStep: number[] = [];
      const stepWall: number[] = [];
      for (let i = 1; i < stepEnds.length; i++) {
        const [from, to] = [stepEnds[i - 1]!, stepEnds[i]!];
        const inside = runs.filter(([a]) => a >= from && a < to).reduce((sum, [a, b]) => sum + (b - a), 0);
        perStep.push(to - from - inside);
        stepWall.push(to - from);
      }
      return { totalMs, onnxMs, onnxRuns: runs.length, numericMs, stepOverheadMs: median(perStep), stepMs: median(stepWall) };
    };
    await once(); // warm-up: first-run allocations in onnxruntime
    const timings: RunTiming[] = [];
    try {
      for (let i = 0; i < repeats; i++) timings.push(await once());
    } finally {
      generatorPrototype.randn = originalRandn;
    }
    const best = timings.reduce((a, b) => (b.totalMs < a.totalMs ? b : a));
    const overhead = best.totalMs - best.onnxMs;
    const engine = overhead - best.numericMs;
    const shape = `${size}x${size} (latents 128x128), ${steps} steps, CFG`;
    return [
      { name: 'sdxl text2img: total pipeline time', shape, ms: best.totalMs, note: `best of ${repeats}` },
      { name: 'sdxl text2img: sum of ONNX session.run', shape, ms: best.onnxMs, note: `${best.onnxRuns} runs (2 text encoders, ${steps} UNet, 1 VAE decoder)` },
      { name: 'sdxl text2img: everything but session.run', shape, ms: overhead, value: `${overhead.toFixed(3)} ms (${pct(overhead, best.totalMs)} of total)` },
      { name: '  of which numeric TS (scheduler, guider, noise, image)', shape, ms: best.numericMs, value: `${best.numericMs.toFixed(3)} ms (${pct(best.numericMs, best.totalMs)})` },
      { name: '  of which engine bookkeeping + batch glue', shape, ms: engine, value: `${engine.toFixed(3)} ms (${pct(engine, best.totalMs)}; ${(engine / steps).toFixed(3)} ms/step)`, note: 'target < 5%, < 1 ms/step' },
      { name: 'sdxl denoise step: wall time', shape, ms: best.stepMs, note: 'median of steps 2..n' },
      { name: 'sdxl denoise step: overhead beyond session.run', shape, ms: best.stepOverheadMs, note: 'target < 1 ms' },
    ];
  } finally {
    OnnxModel.prototype.run = originalRun;
    await rm(dir, { recursive: true, force: true });
  }
}

function pct(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)}%`;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchSdxlPipeline()) {
    console.log(`${row.name.padEnd(48)} ${(row.value ?? `${row.ms!.toFixed(3)} ms`).padEnd(28)} ${row.shape ?? ''}  ${row.note ?? ''}`);
  }
}
