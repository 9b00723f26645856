/**
 * `modular run <repo-or-path> --prompt ... --out out.png`: loads a pipeline
 * with `ModularPipeline.fromPretrained`, runs it with progress bars and
 * writes the first image. Ctrl-C aborts the run through an AbortSignal: no
 * partial image is written, and the exit code is 130.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ComponentsManager, ModularPipeline, parseMemoryBudget, type ModularPipelineBlocks } from '@modular-diffusers/core';
import { RemoteCodeChangedError, RemoteCodeNotTrustedError, type HubEnv } from '@modular-diffusers/hub';
import { CliError, CliInterruptedError, CliUsageError } from '../errors.js';
import { createProgressReporter } from '../progress/progress-reporter.js';
import type { CliIo } from '../program.js';
import { loadModelFamilies } from './inspect.js';
import { DEVICES, IMAGE_EXTENSIONS, isImageInput, parseDevice, parsePositiveInt, parseSeed, parseSetValue } from './run-inputs.js';

export interface RunPipelineOptions {
  prompt: string;
  negativePrompt?: string;
  image?: string;
  set?: Record<string, unknown>;
  out: string;
  device?: (typeof DEVICES)[number];
  seed?: number;
  steps?: number;
  trustRemoteCode?: boolean;
  /** Accept trusted code that changed since it was pinned (a new commit, a moved tag), and re-pin it. */
  updateTrust?: boolean;
  /** Let the repo's index name local folders for components. */
  allowLocalComponents?: boolean;
  revision?: string;
  memoryBudget?: string;
}

export interface RunPipelineResult {
  written: string[];
  pipelineClass: string;
}

function processInterrupt(handler: () => void): () => void {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Paths given for image inputs (`--image`, `--set diffdiff_map=map.png`) become decoded images. */
async function loadImageInputs(blocks: ModularPipelineBlocks, inputs: Record<string, unknown>, cwd: string): Promise<void> {
  const { loadImage } = await import('@modular-diffusers/runtime');
  for (const param of blocks.allInputs) {
    const value = param.name ? inputs[param.name] : undefined;
    if (!isImageInput(param) || typeof value !== 'string') continue;
    const path = resolve(cwd, value);
    if (!existsSync(path)) throw new CliUsageError(`The image for '${param.name}' was not found at ${path}; give the path of a PNG, JPEG or WebP file.`);
    inputs[param.name!] = await loadImage(path);
  }
}

function outputPaths(out: string, count: number): string[] {
  if (count <= 1) return [out];
  const dot = out.lastIndexOf('.');
  return Array.from({ length: count }, (_, i) => `${out.slice(0, dot)}-${i}${out.slice(dot)}`);
}

export async function runPipeline(repo: string, options: RunPipelineOptions, io: CliIo): Promise<RunPipelineResult> {
  const cwd = io.cwd ?? process.cwd();
  const out = resolve(cwd, options.out);
  if (!IMAGE_EXTENSIONS.test(out)) throw new CliUsageError(`--out ${options.out}: end the file name with .png, .jpg or .webp so the format is known.`);
  const budget = options.memoryBudget;
  if (budget !== undefined) {
    try {
      parseMemoryBudget(budget);
    } catch (error) {
      throw new CliUsageError((error as Error).message);
    }
  }
  await loadModelFamilies();
  const { Generator } = await import('@modular-diffusers/runtime');

  const controller = new AbortController();
  let interrupts = 0;
  const stopListening = (io.onInterrupt ?? processInterrupt)(() => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err('\nCancelling (Ctrl-C again to quit at once) ...\n');
      controller.abort(new CliInterruptedError('cancelled with Ctrl-C'));
    } else {
      process.exit(130);
    }
  });
  const progress = createProgressReporter(io);
  const signal = controller.signal;
  let pipeline: (ModularPipeline & { dispose?: () => Promise<void> }) | null = null;
  try {
    let componentsManager: ComponentsManager | null = null;
    if (budget !== undefined) {
      componentsManager = new ComponentsManager();
      await componentsManager.enableAutoOffload({ memoryBudget: budget, device: options.device ?? 'auto' });
    }
    if (options.updateTrust && !options.trustRemoteCode) {
      throw new CliUsageError('--update-trust accepts changed code of a repo you trust: give --trust-remote-code with it.');
    }
    pipeline = await ModularPipeline.fromPretrained(repo, {
      trustRemoteCode: options.trustRemoteCode ? (options.updateTrust ? { update: true } : true) : false,
      allowLocalComponents: options.allowLocalComponents ?? false,
      revision: options.revision,
      device: options.device ?? 'auto',
      componentsManager,
      onProgress: (p: Parameters<typeof progress.download>[0]) => progress.download(p),
      signal,
      env: io.env as HubEnv | undefined,
    });
    await pipeline.loadComponents(null, { signal });

    const inputs: Record<string, unknown> = { prompt: options.prompt, ...options.set };
    if (options.negativePrompt !== undefined) inputs.negative_prompt = options.negativePrompt;
    if (options.image !== undefined) inputs.image = options.image;
    if (options.steps !== undefined) inputs.num_inference_steps = options.steps;
    if (options.seed !== undefined) inputs.generator = new Generator(options.seed);
    await loadImageInputs(pipeline.blocks, inputs, cwd);

    const images = (await pipeline.run({ ...inputs, output: 'images' }, { signal, onProgress: (e) => progress.step(e) })) as unknown;
    if (!Array.isArray(images) || images.length === 0) {
      throw new CliError(`${pipeline.blocks.className} returned no images (got ${images === undefined ? 'nothing' : typeof images}); it may not be an image pipeline.`);
    }
    if (signal.aborted) throw signal.reason;
    const paths = outputPaths(out, images.length);
    for (let i = 0; i < images.length; i++) await (images[i] as { save(path: string): Promise<void> }).save(paths[i]!);
    return { written: paths, pipelineClass: pipeline.className };
  } catch (error) {
    if (signal.aborted) throw new CliInterruptedError('Cancelled with Ctrl-C; no image was written.');
    if (error instanceof RemoteCodeNotTrustedError) {
      throw new CliError(`${error.message}\nFrom the command line: read it with \`modular inspect ${repo}\`, then add --trust-remote-code.`);
    }
    if (error instanceof RemoteCodeChangedError) {
      throw new CliError(`${error.message}\nFrom the command line: add --update-trust to accept the change (\`modular trust show ${repo}\` shows the pin).`);
    }
    throw error;
  } finally {
    progress.stop();
    stopListening();
    await pipeline?.dispose?.().catch(() => {});
  }
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('Load a pipeline (fromPretrained) and run it: writes the image to --out. Ctrl-C cancels cleanly (exit code 130).')
    .argument('<repo-or-path>', 'a Hub repo id (owner/name) or a local folder')
    .requiredOption('--prompt <text>', 'what to draw')
    .requiredOption('--out <file>', 'where to write the image (.png, .jpg or .webp)')
    .option('--negative-prompt <text>', 'what to steer away from')
    .option('--image <file>', 'the input image, for image-to-image pipelines')
    .option('--set <key=value>', 'any other input; JSON values (numbers, booleans) are parsed, image inputs take a file path (repeatable)', parseSetValue)
    .option('--device <device>', `where models run: ${DEVICES.join(', ')}`, parseDevice, 'auto')
    .option('--seed <n>', 'seed the noise for a reproducible image', parseSeed)
    .option('--steps <n>', 'denoising steps (num_inference_steps)', parsePositiveInt('--steps'))
    .option('--revision <revision>', 'a branch, tag or commit of the repo')
    .option('--trust-remote-code', "allow the repo's blocks (JavaScript) to run, in the sandbox, pinned to the commit they came from")
    .option('--update-trust', 'with --trust-remote-code: accept code that changed since it was pinned (a new commit, a moved tag) and re-pin it')
    .option('--allow-local-components', "let the repo's model index name folders on this machine for its components")
    .option('--memory-budget <size>', 'keep loaded models within this size on the device, offloading the rest (e.g. 6GB)')
    .action(async (repo: string, options: RunPipelineOptions) => {
      const started = performance.now();
      const result = await runPipeline(repo, options, io);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      io.out(`Wrote ${result.written.join(', ')} (${result.pipelineClass}, ${seconds} s)\n`);
    });
}
