/**
 * The engine's own cost: a text-to-image run of TEXT2IMAGE_BLOCKS on the
 * tiny SDXL repo at 1024x1024 (128x128 latents), classifier-free guidance
 * (one UNet run of batch 2 per step), timed as a whole and split, without
 * counting any millisecond twice (see time-accounting.ts), into:
 *  - session.run: onnxruntime's InferenceSession.run, the models;
 *  - garbage collection (V8's gc performance entries);
 *  - numeric work in TypeScript: what diffusers does in torch/numpy kernels
 *    (scheduler and guider arithmetic, seeded noise, image post-processing),
 *    timed by wrapping those methods;
 *  - the engine: everything else. Block dispatch, block state and parameter
 *    handling, input checks, tokenizing, the tensor glue between blocks
 *    (stacking the guider's batches), the UNet wrapper's feeds. This is the
 *    part the target (< 5% of the total, < 1 ms per denoise step) is about.
 * Per denoise step the same split is taken over each step's wall time
 * (median of steps 2..n). Each timed run starts from a collected heap, so
 * the collections a run pays for are its own.
 *
 * The tiny UNet runs in under a millisecond, so the numeric work weighs as
 * much as the model here; with a real SDXL UNet (seconds per step) the same
 * milliseconds are well under 1% of a step.
 * Run directly:
 *   node --conditions=source --import tsx packages/sdxl/bench/pipeline.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ort from 'onnxruntime-node';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { Generator, generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';
import { straightLineText2Img, type StraightLineComponents } from './straight-line-text2img.js';
import { splitWallTime, type Interval } from './time-accounting.js';

export interface PipelineBenchRow {
  name: string;
  shape?: string;
  ms?: number;
  value?: string;
  note?: string;
}

type Split = Record<'run' | 'gc' | 'numeric' | 'rest', number>;

interface RunTiming {
  total: Split;
  totalMs: number;
  onnxRuns: number;
  /** Medians over steps 2..n of each part of a step's wall time. */
  step: Split;
  stepMs: number;
}

/** A full collection before each timed run: V8's gc() without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export async function benchSdxlPipeline(options: { steps?: number; size?: number; repeats?: number; warmups?: number } = {}): Promise<PipelineBenchRow[]> {
  const steps = options.steps ?? 10;
  const size = options.size ?? 1024;
  const repeats = options.repeats ?? 15;
  const warmups = options.warmups ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'bench-sdxl-'));
  // InferenceSession is typed as a factory; at run time it is the class whose prototype.run every session uses.
  const sessionPrototype = (ort.InferenceSession as unknown as { prototype: Record<string, unknown> }).prototype;
  const originalRun = sessionPrototype.run as (...args: unknown[]) => Promise<unknown>;
  const restores: Array<() => void> = [() => (sessionPrototype.run = originalRun)];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push([entry.startTime, entry.startTime + entry.duration]);
  });
  let runs: Interval[] = [];
  let gcs: Interval[] = [];
  let numeric: Interval[] = [];
  try {
    await generateTinySdxlRepo(join(dir, 'repo'));
    const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
    const pipe = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(join(dir, 'repo'), {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registry,
      logger: silentLogger,
    });
    await pipe.loadComponents();

    sessionPrototype.run = async function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      try {
        return await originalRun.apply(this, args);
      } finally {
        runs.push([start, performance.now()]);
      }
    };
    const timed = (target: object, method: string) => {
      const holder = target as Record<string, unknown>;
      const original = holder[method] as (...a: unknown[]) => unknown;
      holder[method] = function (this: unknown, ...a: unknown[]) {
        const start = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          numeric.push([start, performance.now()]);
        }
      };
      restores.push(() => (holder[method] = original));
    };
    const components = pipe as unknown as Record<string, object>;
    for (const method of ['step', 'scaleModelInput', 'setTimesteps']) timed(components.scheduler!, method);
    for (const method of ['prepareInputs', 'call']) timed(components.guider!, method);
    timed(components.image_processor!, 'postprocess');
    for (const name of ['tokenizer', 'tokenizer_2']) for (const method of ['encode', 'decode']) timed(components[name]!, method);
    timed(Generator.prototype, 'randn');
    gcObserver.observe({ entryTypes: ['gc'] });

    const once = async (): Promise<RunTiming> => {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve)); // let the observer report that collection before the clock starts
      runs = [];
      gcs = [];
      numeric = [];
      const stepEnds: number[] = [];
      const generator = new Generator(0); // the caller's object: seeding it is not part of the run
      const start = performance.now();
      await pipe(
        { prompt: 'a red apple', height: size, width: size, num_inference_steps: steps, generator, output: 'images' },
        { onProgress: () => stepEnds.push(performance.now()) },
      );
      const end = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 0)); // gc entries arrive asynchronously
      const split = (from: number, to: number): Split =>
        splitWallTime(
          [
            ['gc', gcs],
            ['run', runs],
            ['numeric', numeric],
          ],
          from,
          to,
        );
      const stepSplits: Split[] = [];
      for (let i = 1; i < stepEnds.length; i++) stepSplits.push(split(stepEnds[i - 1]!, stepEnds[i]!));
      const medianOf = (pick: (s: Split) => number) => median(stepSplits.map(pick));
      return {
        total: split(start, end),
        totalMs: end - start,
        onnxRuns: runs.length,
        step: { run: medianOf((s) => s.run), gc: medianOf((s) => s.gc), numeric: medianOf((s) => s.numeric), rest: medianOf((s) => s.rest) },
        stepMs: median(stepEnds.slice(1).map((t, i) => t - stepEnds[i]!)),
      };
    };
    // The same run written out by hand, without the engine: it must give the same pixels.
    const straight = async (): Promise<{ totalMs: number; stepMs: number }> => {
      const generator = new Generator(0);
      const stepEnds: number[] = [];
      const start = performance.now();
      const images = await straightLineText2Img(pipe as unknown as StraightLineComponents, {
        prompt: 'a red apple',
        size,
        steps,
        generator,
        onStep: () => stepEnds.push(performance.now()),
      });
      const totalMs = performance.now() - start;
      straightImage ??= images[0]!.data;
      return { totalMs, stepMs: median(stepEnds.slice(1).map((t, i) => t - stepEnds[i]!)) };
    };
    let straightImage: Uint8Array | undefined;
    const modularImage = ((await pipe({ prompt: 'a red apple', height: size, width: size, num_inference_steps: steps, generator: new Generator(0), output: 'images' })) as Array<{ data: Uint8Array }>)[0]!.data;
    await straight();
    if (!Buffer.from(modularImage).equals(Buffer.from(straightImage!))) {
      throw new Error('The hand-written text2img no longer gives the modular pipeline\'s pixels; update straight-line-text2img.ts.');
    }

    for (let i = 0; i < warmups; i++) {
      await once(); // onnxruntime's first-run allocations, V8's optimizing compiler
      await straight();
    }
    const timings: RunTiming[] = [];
    const straightTimings: Array<{ totalMs: number; stepMs: number }> = [];
    // Interleaved, so a slow minute of the machine weighs on both alike.
    for (let i = 0; i < repeats; i++) {
      timings.push(await once());
      straightTimings.push(await straight());
    }

    // The run with the median total: one real run, whose parts add up.
    const typical = [...timings].sort((a, b) => a.totalMs - b.totalMs)[Math.floor(timings.length / 2)]!;
    const { total, step } = typical;
    const shape = `${size}x${size} (latents 128x128), ${steps} steps, CFG`;
    const part = (ms: number, whole: number) => `${ms.toFixed(3)} ms (${pct(ms, whole)})`;
    const enginePerStep = total.rest / steps;
    const modularMs = median(timings.map((t) => t.totalMs));
    const straightMs = median(straightTimings.map((t) => t.totalMs));
    const ownMs = modularMs - straightMs;
    const ownStepMs = median(timings.map((t) => t.stepMs)) - median(straightTimings.map((t) => t.stepMs));
    return [
      { name: 'sdxl text2img: modular pipeline', shape, ms: modularMs, note: `median of ${repeats}, interleaved with the next row` },
      { name: 'sdxl text2img: the same run hand-written (no engine)', shape, ms: straightMs, note: 'same components and math; same pixels (checked)' },
      {
        name: "  the engine's own overhead (difference)",
        shape,
        value: `${ownMs.toFixed(3)} ms (${pct(ownMs, modularMs)}); per step ${ownStepMs.toFixed(3)} ms`,
        note: `target < 5% and < 1 ms/step: ${ownMs < 0.05 * modularMs && ownStepMs < 1 ? 'met' : 'NOT met'}`,
      },
      { name: 'sdxl text2img: total pipeline time', shape, ms: typical.totalMs, note: `the modular run with the median total, split` },
      { name: '  session.run (all models)', shape, value: part(total.run, typical.totalMs), note: `${typical.onnxRuns} runs (2 text encoders, ${steps} UNet, 1 VAE decoder)` },
      { name: '  numeric TS (scheduler, guider, noise, image)', shape, value: part(total.numeric, typical.totalMs), note: "diffusers' torch/numpy work" },
      { name: '  garbage collection', shape, value: part(total.gc, typical.totalMs) },
      {
        name: '  engine (blocks, state, glue, checks)',
        shape,
        value: `${part(total.rest, typical.totalMs)}; ${enginePerStep.toFixed(3)} ms/step`,
        note: 'by elimination: includes tensor math inside blocks',
      },
      { name: 'sdxl denoise step: wall time', shape, ms: typical.stepMs, note: 'median of steps 2..n' },
      { name: '  session.run (UNet)', shape, ms: step.run },
      { name: '  numeric TS (scale input, guidance, scheduler step)', shape, ms: step.numeric },
      { name: '  garbage collection', shape, ms: step.gc },
      { name: '  engine (loop, block state, batch stacking, feeds)', shape, ms: step.rest, note: 'by elimination' },
    ];
  } finally {
    gcObserver.disconnect();
    for (const restore of restores.reverse()) restore();
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
    console.log(`${row.name.padEnd(56)} ${(row.value ?? `${row.ms!.toFixed(3)} ms`).padEnd(40)} ${row.note ?? ''}`);
  }
}
