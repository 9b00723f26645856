/**
 * `modular run <repo-or-path> --prompt ... --out out.png`: loads a pipeline
 * with `ModularPipeline.fromPretrained`, runs it with progress bars and
 * writes the first image. Ctrl-C aborts the run through an AbortSignal: no
 * partial image is written, and the exit code is 130.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  ComponentsManager,
  ModularPipeline,
  PipelineState,
  RunTooLargeError,
  checkRunMemory,
  parseMaxMemory,
  parseMemoryBudget,
  type ModularPipelineBlocks,
  type PipelineComponents,
} from '@modular-diffusers/core';
import { RemoteCodeChangedError, RemoteCodeNotTrustedError, type HubEnv } from '@modular-diffusers/hub';
import { CliError, CliInterruptedError, CliUsageError } from '../errors.js';
import { createProgressReporter } from '../progress/progress-reporter.js';
import type { CliIo } from '../program.js';
import { loadModelFamilies } from './inspect.js';
import { DEVICES, IMAGE_EXTENSIONS, isImageInput, parseDevice, parseGuidanceScale, parsePositiveInt, parseSeed, parseSetValue } from './run-inputs.js';
import { GUIDER_PREFIX, parseGuiderValue, typePipelineInputs } from './run-set-values.js';

export interface RunPipelineOptions {
  prompt: string;
  negativePrompt?: string;
  image?: string;
  /** `--set name=value` as written; typed from the pipeline's input declarations once its blocks are known. */
  set?: Record<string, string>;
  out: string;
  device?: (typeof DEVICES)[number];
  seed?: number;
  steps?: number;
  /** The guider's guidance_scale (same as `--set guider.guidance_scale=...`). */
  guidanceScale?: number;
  trustRemoteCode?: boolean;
  /** Accept trusted code that changed since it was pinned (a new commit, a moved tag), and re-pin it. */
  updateTrust?: boolean;
  /** Let the repo's index name local folders for components. */
  allowLocalComponents?: boolean;
  revision?: string;
  memoryBudget?: string;
  /** The largest run to start (its tensors, estimated before anything is allocated), e.g. '24GB'. */
  maxMemory?: string;
}

export interface RunPipelineResult {
  written: string[];
  pipelineClass: string;
}

function processInterrupt(handler: () => void): () => void {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Which given values name image files: `--image`, and `--set` values that are image paths or go to an image input. */
function imageFileArguments(options: RunPipelineOptions): Array<{ key: string; flag: string; value: string }> {
  const files: Array<{ key: string; flag: string; value: string }> = [];
  if (options.image !== undefined) files.push({ key: 'image', flag: '--image', value: options.image });
  for (const [key, value] of Object.entries(options.set ?? {})) {
    if (key.startsWith(GUIDER_PREFIX)) continue;
    if (IMAGE_EXTENSIONS.test(value) || isImageInput({ name: key, typeHint: null })) files.push({ key, flag: `--set ${key}`, value });
  }
  return files;
}

/** Reads and decodes every image file given, before anything is downloaded or started. */
async function readImageFiles(options: RunPipelineOptions, cwd: string): Promise<Map<string, unknown>> {
  const files = imageFileArguments(options);
  const images = new Map<string, unknown>();
  if (files.length === 0) return images;
  const { loadImage } = await import('@modular-diffusers/runtime');
  for (const { key, flag, value } of files) {
    const path = resolve(cwd, value);
    if (!existsSync(path)) {
      throw new CliUsageError(
        `${flag} ${value}: there is no file at ${path}; give the path of a PNG, JPEG or WebP image ` +
          "(`npm run demo` writes the developer guide's example images to out/demo/).",
      );
    }
    try {
      images.set(key, await loadImage(path));
    } catch (error) {
      throw new CliUsageError(`${flag} ${value}: ${path} could not be read as an image: ${(error as Error).message}`);
    }
  }
  return images;
}

/** A GPU device whose provider is not installed is refused once, with the remedy, before any work. */
async function checkDevice(device: RunPipelineOptions['device']): Promise<void> {
  if (device !== 'cuda' && device !== 'webgpu') return;
  const { probeProvider, providerRemedy } = await import('@modular-diffusers/runtime');
  const availability = probeProvider(device);
  if (!availability.available) throw new CliUsageError(`--device ${device}: the ${device} provider is unavailable: ${availability.reason}\n${providerRemedy(device)}`);
}

function parseMaxMemoryFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseMaxMemory(value);
  } catch (error) {
    throw new CliUsageError(`--max-memory ${value}: ${(error as Error).message.replace(/^maxMemory: /, '')}`);
  }
}

/** `--guidance-scale` and `--set guider.<key>=...`: the guider rebuilt from its config with these values. */
function guiderOverrides(options: RunPipelineOptions): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(options.set ?? {})) {
    if (key.startsWith(GUIDER_PREFIX)) overrides[key.slice(GUIDER_PREFIX.length)] = parseGuiderValue(key.slice(GUIDER_PREFIX.length), raw);
  }
  if (options.guidanceScale !== undefined) {
    if (overrides.guidance_scale !== undefined) throw new CliUsageError('Give the guidance scale once: --guidance-scale or --set guider.guidance_scale, not both.');
    overrides.guidance_scale = options.guidanceScale;
  }
  return overrides;
}

function applyGuiderOverrides(pipeline: ModularPipeline, overrides: Record<string, unknown>): void {
  if (Object.keys(overrides).length === 0) return;
  if (!pipeline.componentNames.includes('guider')) {
    throw new CliUsageError(`--guidance-scale / --set guider.*: this pipeline (${pipeline.blocks.className}) has no guider component.`);
  }
  const spec = pipeline.getComponentSpec('guider');
  const current = (pipeline.getComponent('guider') as { config?: Record<string, unknown> } | null)?.config ?? {};
  const config = Object.fromEntries(Object.entries(current).filter(([key]) => !key.startsWith('_')));
  let guider: unknown;
  try {
    guider = spec.create({ ...config, ...overrides }, { registry: pipeline.loaderRegistry });
  } catch (error) {
    throw new CliUsageError(`--set guider.*: ${(error as Error).message}`);
  }
  pipeline.updateComponents({ guider });
}

function outputPaths(out: string, count: number): string[] {
  if (count <= 1) return [out];
  const dot = out.lastIndexOf('.');
  return Array.from({ length: count }, (_, i) => `${out.slice(0, dot)}-${i}${out.slice(dot)}`);
}

export async function runPipeline(repo: string, options: RunPipelineOptions, io: CliIo): Promise<RunPipelineResult> {
  const cwd = io.cwd ?? process.cwd();
  const out = resolve(cwd, options.out);
  // Everything the command line says is checked before anything is downloaded or started.
  if (!IMAGE_EXTENSIONS.test(out)) throw new CliUsageError(`--out ${options.out}: end the file name with .png, .jpg or .webp so the format is known.`);
  const budget = options.memoryBudget;
  if (budget !== undefined) {
    try {
      parseMemoryBudget(budget);
    } catch (error) {
      throw new CliUsageError((error as Error).message);
    }
  }
  const maxMemory = parseMaxMemoryFlag(options.maxMemory);
  if (options.updateTrust && !options.trustRemoteCode) {
    throw new CliUsageError('--update-trust accepts changed code of a repo you trust: give --trust-remote-code with it.');
  }
  const overrides = guiderOverrides(options);
  await checkDevice(options.device);
  const images = await readImageFiles(options, cwd);
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
    pipeline = await ModularPipeline.fromPretrained(repo, {
      trustRemoteCode: options.trustRemoteCode ? (options.updateTrust ? { update: true } : true) : false,
      allowLocalComponents: options.allowLocalComponents ?? false,
      revision: options.revision,
      device: options.device ?? 'auto',
      componentsManager,
      onProgress: (p: Parameters<typeof progress.download>[0]) => progress.download(p),
      signal,
      env: io.env as HubEnv | undefined,
      ...(maxMemory !== undefined ? { maxMemory } : {}),
    });

    // The blocks are known now (no model is loaded yet): every value is typed from their declarations,
    // and a name they do not declare stops the command here.
    const given = new Map<string, { raw: unknown; from: 'set' | 'flag' }>();
    given.set('prompt', { raw: options.prompt, from: 'flag' });
    if (options.negativePrompt !== undefined) given.set('negative_prompt', { raw: options.negativePrompt, from: 'flag' });
    if (options.steps !== undefined) given.set('num_inference_steps', { raw: options.steps, from: 'flag' });
    if (options.seed !== undefined) given.set('generator', { raw: new Generator(options.seed), from: 'flag' });
    for (const [key, raw] of Object.entries(options.set ?? {})) {
      if (!key.startsWith(GUIDER_PREFIX)) given.set(key, images.has(key) ? { raw: images.get(key), from: 'flag' } : { raw, from: 'set' });
    }
    if (images.has('image') && options.image !== undefined) given.set('image', { raw: images.get('image'), from: 'flag' });
    const inputs = typePipelineInputs(given, pipeline.blocks.allInputs);
    await loadRemainingImages(pipeline.blocks, inputs, cwd);
    applyGuiderOverrides(pipeline, overrides);
    // The run's size, from the inputs and the defaults, before any model is downloaded.
    const sizing = new PipelineState();
    for (const param of pipeline.blocks.allInputs) if (param.name) sizing.set(param.name, param.name in inputs ? inputs[param.name] : param.default);
    checkRunMemory(pipeline as PipelineComponents, pipeline.blocks.modelName, sizing, maxMemory ?? null);

    await pipeline.loadComponents(null, { signal });
    const produced = (await pipeline.run({ ...inputs, output: 'images' }, { signal, onProgress: (e) => progress.step(e), ...(maxMemory !== undefined ? { maxMemory } : {}) })) as unknown;
    if (!Array.isArray(produced) || produced.length === 0) {
      throw new CliError(`${pipeline.blocks.className} returned no images (got ${produced === undefined ? 'nothing' : typeof produced}); it may not be an image pipeline.`);
    }
    if (signal.aborted) throw signal.reason;
    const paths = outputPaths(out, produced.length);
    for (let i = 0; i < produced.length; i++) await (produced[i] as { save(path: string): Promise<void> }).save(paths[i]!);
    return { written: paths, pipelineClass: pipeline.className };
  } catch (error) {
    if (signal.aborted) throw new CliInterruptedError('Cancelled with Ctrl-C; no image was written.');
    if (error instanceof RemoteCodeNotTrustedError) {
      throw new CliError(`${error.message}\nFrom the command line: read it with \`modular inspect ${repo}\`, then add --trust-remote-code.`);
    }
    if (error instanceof RemoteCodeChangedError) {
      throw new CliError(`${error.message}\nFrom the command line: add --update-trust to accept the change (\`modular trust show ${repo}\` shows the pin).`);
    }
    if (error instanceof RunTooLargeError) throw new CliUsageError(error.message);
    throw error;
  } finally {
    progress.stop();
    stopListening();
    await pipeline?.dispose?.().catch(() => {});
  }
}

/** Image inputs whose value is still a path (an input typed as an image under another name) are decoded now. */
async function loadRemainingImages(blocks: ModularPipelineBlocks, inputs: Record<string, unknown>, cwd: string): Promise<void> {
  for (const param of blocks.allInputs) {
    const value = param.name ? inputs[param.name] : undefined;
    if (!isImageInput(param) || typeof value !== 'string') continue;
    const { loadImage } = await import('@modular-diffusers/runtime');
    const path = resolve(cwd, value);
    if (!existsSync(path)) throw new CliUsageError(`--set ${param.name}=${value}: there is no file at ${path}; give the path of a PNG, JPEG or WebP image.`);
    inputs[param.name!] = await loadImage(path);
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
    .option('--set <name=value>', "any pipeline input, typed from the blocks' declaration (image inputs take a file path); guider.<key>=value sets the guider (repeatable)", parseSetValue)
    .option('--guidance-scale <n>', "the guider's guidance_scale (same as --set guider.guidance_scale=<n>)", parseGuidanceScale)
    .option('--max-memory <size>', "the largest run to start, estimated before anything is allocated (default 16GB; e.g. 32GB, or 'Infinity')")
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
