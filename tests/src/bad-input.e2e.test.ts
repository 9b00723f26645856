/**
 * Bad input a new user hits (issue 15), through the public API on the tiny SDXL repo served by the
 * local Hub: each case asserts the message and that no model ran (no ONNX session was run). The
 * command line's cases (unknown --set inputs, missing image files, --guidance-scale, --max-memory,
 * --device without its provider, a busy port) are in packages/cli's run and hub tests.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import {
  ComponentsManager,
  ModularPipeline,
  RunTooLargeError,
  SequentialPipelineBlocks,
  UnknownOptionError,
} from '@modular-diffusers/core';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { Generator, OnnxModel, generateTinySdxlRepo, probeProvider } from '@modular-diffusers/runtime';
import { IMAGE2IMAGE_BLOCKS, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { workDir } from './e2e-kit.js';

const REPO = 'modular-diffusers/tiny-sdxl';
let work: string;
let hub: HubServer;
let pipe: any;

beforeAll(async () => {
  work = await workDir();
  const tiny = join(work, 'tiny-sdxl');
  await generateTinySdxlRepo(tiny, {});
  hub = await startHubServer({ root: join(work, 'hub') });
  await hub.importFolder(REPO, tiny);
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = join(work, 'hf-cache');
  pipe = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(REPO);
  await pipe.loadComponents();
});

afterAll(async () => {
  await hub?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const base = { prompt: 'a green pear', height: 64, width: 64, num_inference_steps: 2, generator: new Generator(0) };

/** Runs `attempt`, expecting it to throw `message` with no ONNX session run and (optionally) no Hub request. */
async function refused(attempt: () => unknown, message: string | RegExp, { noRequests = false } = {}): Promise<Error> {
  const run = vi.spyOn(OnnxModel.prototype, 'run').mockClear();
  const before = hub.requestLog.length;
  let error: unknown;
  try {
    await attempt();
  } catch (e) {
    error = e;
  }
  vi.restoreAllMocks();
  expect(error, 'it should have thrown').toBeInstanceOf(Error);
  if (typeof message === 'string') expect((error as Error).message).toContain(message);
  else expect((error as Error).message).toMatch(message);
  expect(run).not.toHaveBeenCalled();
  if (noRequests) expect(hub.requestLog.length).toBe(before);
  return error as Error;
}

describe('misspelt options name the option that was meant, before anything is read', () => {
  it.each([
    [{ trust_remote_code: true }, "unknown option 'trust_remote_code'. Did you mean 'trustRemoteCode'?"],
    [{ trustRemotecode: true }, "unknown option 'trustRemotecode'. Did you mean 'trustRemoteCode'?"],
    [{ component_manager: new ComponentsManager() }, "unknown option 'component_manager'. Did you mean 'componentManager'?"],
    [{ devcie: 'cpu' }, "unknown option 'devcie'. Did you mean 'device'?"],
  ])('fromPretrained(repo, %o)', async (options, message) => {
    const error = await refused(() => ModularPipeline.fromPretrained(REPO, options as never), `ModularPipeline.fromPretrained: ${message}`, { noRequests: true });
    expect(error).toBeInstanceOf(UnknownOptionError);
  });

  it('initPipeline, loadComponents (perComponent too) and run', async () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS);
    await refused(() => blocks.initPipeline(REPO, { componentManager: null } as never), "initPipeline: unknown option 'componentManager'. Did you mean 'componentsManager'?");
    await refused(() => pipe.loadComponents({ torch_dtype: 'float16' }), "pipeline.loadComponents: unknown option 'torch_dtype'. Did you mean 'torchDtype'?", { noRequests: true });
    await refused(() => pipe.loadComponents({ perComponent: { unte: { device: 'cpu' } } }), "perComponent names 'unte', which is not a component of this pipeline. Did you mean 'unet'?");
    await refused(() => pipe.loadComponents({ perComponent: { unet: { dvice: 'cpu' } } }), "perComponent.unet: unknown option 'dvice'. Did you mean 'device'?");
    await refused(() => pipe(base, { onProgres: () => {} }), "pipeline.run: unknown option 'onProgres'. Did you mean 'onProgress'?");
  });
});

describe("the guide's bracket edits of block dicts", () => {
  it('d[key] = Block replaces in place; a write that cannot mean an entry is a TypeError', () => {
    const d = IMAGE2IMAGE_BLOCKS.copy();
    const Denoise = TEXT2IMAGE_BLOCKS['denoise'];
    d['denoise'] = Denoise;
    expect(d.get('denoise')).toBe(Denoise);
    expect(IMAGE2IMAGE_BLOCKS['denoise']).not.toBeUndefined();
    expect(() => {
      (d as unknown as Record<string, unknown>)['keys'] = Denoise;
    }).toThrow("Cannot set 'keys' on an InsertableOrderedDict: 'keys' is one of its own members, not an entry.");
    const blocks = SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS);
    blocks.blocks['denoise'] = TEXT2IMAGE_BLOCKS.get('denoise')!;
    expect(blocks.blocks['denoise']!.constructor).toBe(TEXT2IMAGE_BLOCKS.get('denoise'));
    expect(() => {
      blocks.blocks['decode'] = 42 as never;
    }).toThrow("'decode' must be a block class or a block instance");
  });
});

describe('runs are checked before any model runs', () => {
  it('run({ height: 100000, width: 100000 }) is refused by its size estimate, with the override', async () => {
    const error = await refused(() => pipe({ ...base, height: 100000, width: 100000 }), /^This run needs about [\d.]+ TiB of memory/);
    expect(error).toBeInstanceOf(RunTooLargeError);
    expect(error.message).toContain("over the 16.00 GiB limit; nothing was allocated. Ask for a smaller height and width or fewer images, or raise the limit");
  });

  it.each([
    [{ height: 0 }, '`height` must be a whole number of pixels above 0 (a multiple of 8), got 0.'],
    [{ width: 100 }, '`height` and `width` have to be divisible by 8 but width is 100.'],
    [{ num_inference_steps: '4' }, "`num_inference_steps` must be a positive integer, got the string '4' (pass the number 4, not a string)."],
    [{ prompt: undefined }, 'The text encoder step needs `prompt` (a string or a list of strings), or precomputed `prompt_embeds` and `pooled_prompt_embeds`.'],
  ])('run(%o)', async (inputs, message) => {
    await refused(() => pipe({ ...base, ...inputs }), message);
  });

  it('a guider with guidance_scale NaN says NaN, not null', async () => {
    // As a user rebuilds the pipeline's guider with a new setting.
    const spec = pipe.getComponentSpec('guider');
    await refused(() => spec.create({ guidance_scale: NaN }, { registry: pipe.loaderRegistry }), /ClassifierFreeGuidance .*`guidance_scale` is NaN: must be a number/);
  });

  it.runIf(!probeProvider('cuda').available)("device 'cuda' without the provider: one message naming every component, the remedy once", async () => {
    const fresh = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(REPO);
    const error = await refused(() => fresh.loadComponents({ device: 'cuda' }), /^Failed to load 4 component\(s\): 'text_encoder', 'text_encoder_2', 'vae', 'unet': The 'cuda' execution provider is unavailable/);
    expect(error.message.match(/To use CUDA/g)).toHaveLength(1);
  });
});
