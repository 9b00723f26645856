/**
 * The end-to-end provider check behind `npm run gpu-check`: the tiny SDXL
 * repo's text-to-image run on CPU, then on WebGPU and CUDA where they are
 * available, each image compared with the CPU image (IMAGE_TOLERANCE_LEVELS,
 * 2/255), and each provider's median denoise-step time next to the median of
 * the bare UNet session.run on the same inputs. A provider that is not
 * available is a row with the reason, never a crash.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import {
  Generator,
  OnnxModel,
  compareImages,
  defaultProbeEnvironment,
  findVulkanLoader,
  formatProviderCheckTable,
  generateTinySdxlRepo,
  medianOf,
  probeProvider,
  rowStatus,
  timeBareSessionRun,
  type ExecutionProvider,
  PipelineImage,
  type ProviderCheckRow,
  type Tensor,
} from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, StableDiffusionXLModularPipeline, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';

export interface GpuCheckOptions {
  providers?: readonly ExecutionProvider[];
  /** Image side in pixels (default 512: 64x64 latents). */
  size?: number;
  steps?: number;
  /** Whether apt-get and dpkg are on this machine (for the Vulkan advice). */
  tools?: { aptGet: boolean; dpkg: boolean };
  log?: (line: string) => void;
}

export interface GpuCheckResult {
  rows: ProviderCheckRow[];
  table: string;
}

interface ProviderRun {
  image: PipelineImage;
  totalMs: number;
  stepMs: number;
  unetFeeds: Record<string, Tensor>;
  providers: Set<string>;
}

export async function runGpuCheck(options: GpuCheckOptions = {}): Promise<GpuCheckResult> {
  const providers = options.providers ?? ['cpu', 'webgpu', 'cuda'];
  const size = options.size ?? 512;
  const steps = options.steps ?? 4;
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'gpu-check-'));
  const repo = join(dir, 'repo');
  const rows: ProviderCheckRow[] = [];
  try {
    await generateTinySdxlRepo(repo);
    let reference: PipelineImage | null = null;
    for (const provider of providers) {
      const availability = probeProvider(provider);
      if (!availability.available) {
        let reason = availability.reason ?? 'not available';
        if (provider === 'webgpu') {
          const vulkan = findVulkanLoader(defaultProbeEnvironment(), options.tools);
          if (!vulkan.found && vulkan.advice) reason = vulkan.advice;
        }
        rows.push({ provider, status: 'unavailable', reason });
        log(`${provider}: unavailable (${reason})`);
        continue;
      }
      try {
        log(`${provider}: running text2img ${size}x${size}, ${steps} steps...`);
        const run = await runOn(provider, repo, size, steps);
        const strays = [...run.providers].filter((p) => p !== provider);
        const sessionRunMs = await timeBareSessionRun(join(repo, 'unet', 'model.onnx'), run.unetFeeds, { provider });
        const comparison = provider === 'cpu' || !reference ? undefined : compareImages(reference, run.image);
        if (provider === 'cpu') reference = run.image;
        rows.push({
          provider,
          status: rowStatus(comparison),
          totalMs: run.totalMs,
          stepMs: run.stepMs,
          sessionRunMs,
          ...(comparison ? { comparison } : {}),
          ...(strays.length ? { reason: `some sessions ran on ${strays.join(', ')}` } : provider !== 'cpu' && !reference ? { reason: 'no cpu image to compare with' } : {}),
        });
        log(`${provider}: done`);
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        rows.push({ provider, status: provider === 'cpu' ? 'failed' : 'unavailable', reason: provider === 'cpu' ? reason : `it failed to run: ${reason}` });
        log(`${provider}: failed (${reason})`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { rows, table: formatProviderCheckTable(rows) };
}

async function runOn(provider: ExecutionProvider, repo: string, size: number, steps: number): Promise<ProviderRun> {
  const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
  const pipe = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(repo, {
    pipelineClass: StableDiffusionXLModularPipeline,
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registry,
    logger: silentLogger,
  });
  const originalRun = OnnxModel.prototype.run;
  let unetFeeds: Record<string, Tensor> | null = null;
  const seen = new Set<string>();
  try {
    await pipe.loadComponents(null, { device: provider });
    OnnxModel.prototype.run = async function (this: OnnxModel, ...args: Parameters<OnnxModel['run']>) {
      const result = await originalRun.apply(this, args);
      seen.add(this.lastRunProvider ?? this.provider);
      if (!unetFeeds && this.input('time_ids') && this.input('sample')) unetFeeds = { ...args[0] };
      return result;
    };
    const call = async () => {
      const stepEnds: number[] = [];
      const start = performance.now();
      const images = await pipe(
        { prompt: 'a red apple', height: size, width: size, num_inference_steps: steps, generator: new Generator(0), output: 'images' },
        { onProgress: () => stepEnds.push(performance.now()) },
      );
      const totalMs = performance.now() - start;
      const stepMs = medianOf(stepEnds.slice(1).map((end, i) => end - stepEnds[i]!));
      const image = images[0];
      if (!(image instanceof PipelineImage)) throw new Error("the pipeline returned no image (output_type is 'pil' by default)");
      return { image, totalMs, stepMs };
    };
    await call(); // warm-up: first-run allocations and kernel compilation
    const timed = await call();
    if (!unetFeeds) throw new Error('the UNet never ran');
    return { ...timed, unetFeeds, providers: seen };
  } finally {
    OnnxModel.prototype.run = originalRun;
    for (const component of Object.values(pipe.components)) await (component as { release?: () => Promise<void> } | null)?.release?.();
  }
}
