/**
 * TEXT2IMAGE_BLOCKS on the real-architecture fixture (packages/sdxl/fixtures/real-arch: diffusers'
 * own UNet2DConditionModel, AutoencoderKL and CLIP encoders, random weights, exported by
 * torch.onnx.export in Optimum's layout), from the prompt, with CFG: the pipeline's wall time next
 * to the sum of onnxruntime's InferenceSession.run over the same run. What is left is the engine,
 * the numeric TypeScript and the tokenizers: the overhead figure, here on a real graph (attention,
 * GroupNorm, up/down blocks) rather than on the toy one.
 *
 * Default 512x512 (64x64 latents). 1024x1024 (128x128 latents, SDXL's own size) is an option
 * (`BENCH_REAL_ARCH_SIZE=1024`): on a 2-core CPU one UNet call there takes 10-16 s and about 4 GB,
 * since the fixture's attention runs over 64x64 = 4096 tokens (the real SDXL attends over at most
 * 64x64 too, at 1024x1024, in its deepest blocks).
 * Run directly:
 *   node --conditions=source --import tsx packages/sdxl/bench/real-arch.ts
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';
import type { PipelineBenchRow } from './pipeline.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'real-arch', 'repo');

export async function benchRealArchText2Img(
  options: { size?: number; steps?: number; repeats?: number } = {},
): Promise<PipelineBenchRow[]> {
  const size = options.size ?? (Number(process.env.BENCH_REAL_ARCH_SIZE) || 512);
  const steps = options.steps ?? 4;
  const repeats = options.repeats ?? 3;
  // InferenceSession is typed as a factory; at run time it is the class whose prototype.run every session uses.
  const sessionPrototype = (ort.InferenceSession as unknown as { prototype: Record<string, unknown> }).prototype;
  const originalRun = sessionPrototype.run as (...args: unknown[]) => Promise<unknown>;
  let runMs = 0;
  let runCount = 0;
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(REPO, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  try {
    await pipe.loadComponents();
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
    sessionPrototype.run = async function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      try {
        return await originalRun.apply(this, args);
      } finally {
        runMs += performance.now() - start;
        runCount += 1;
      }
    };
    const run = async () => {
      runMs = 0;
      runCount = 0;
      const start = performance.now();
      await pipe({
        prompt: 'a photo of a red fox in the snow',
        negative_prompt: 'blurry low quality',
        height: size,
        width: size,
        num_inference_steps: steps,
        generator: new Generator(0),
        output: 'images',
      });
      return { wall: performance.now() - start, run: runMs, count: runCount };
    };
    await run(); // first runs pay for onnxruntime's per-shape allocations and the text encoders' sessions
    const timings = [];
    for (let i = 0; i < repeats; i++) timings.push(await run());
    const wall = median(timings.map((t) => t.wall));
    const inRun = median(timings.map((t) => t.run));
    const outside = median(timings.map((t) => t.wall - t.run));
    const shape = `${size}x${size} (${size / 8}x${size / 8} latents), ${steps} steps, CFG`;
    const note = `median of ${repeats} runs after a warm-up`;
    return [
      { name: 'real-arch text2img: pipeline wall time', shape, ms: wall, note },
      { name: 'real-arch text2img: sum of session.run', shape, ms: inRun, note: `${timings[0]!.count} runs: 2 text encoders, ${steps} UNet (batch 2), 1 VAE decoder` },
      { name: 'real-arch text2img: outside session.run', shape, ms: outside, note: `${((100 * outside) / wall).toFixed(2)}% of the wall time: engine, numeric TS, tokenizers, image post-processing` },
    ];
  } finally {
    sessionPrototype.run = originalRun;
    for (const component of Object.values(pipe.components)) await (component as { release?: () => Promise<void> } | null)?.release?.();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchRealArchText2Img();
  for (const row of rows) console.log(`${row.name} | ${row.shape} | ${row.ms?.toFixed(1)} ms | ${row.note}`);
}
