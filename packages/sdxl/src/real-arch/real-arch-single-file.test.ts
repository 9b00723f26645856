/**
 * An SDXL checkpoint in the original single-file layout (fixtures/adapters/single-file, made by
 * tools/reference/adapter-fixtures/single-file/make_single_file_fixtures.py): the real-arch tiny
 * UNet, VAE and CLIP-L plus a 10-layer OpenCLIP stand-in, fp16, in one `.safetensors` with
 * `model.diffusion_model.*`, `first_stage_model.*` and `conditioner.embedders.*` keys. The script
 * proved diffusers' own single-file conversion reads it back tensor for tensor, and ran
 * StableDiffusionXLPipeline text2img (prompt -> both encoders -> 4 Euler steps, CFG 5) on what
 * diffusers converted: the numbers here are diffusers'. Tolerances are the issue's: final latents
 * within 1e-4 of their magnitude, uint8 within 2.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import type { RgbImage } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { StableDiffusionXLModularPipeline } from '../index.js';
import { loadSingleFile } from '../single-file/load-single-file.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import { maxAbsDiff, relativeError } from './real-arch-fixture.test-helpers.js';
import { SINGLE_FILE_CHECKPOINT, SINGLE_FILE_CONFIG_REPO, loadSingleFileReferences, type SingleFileReferences } from './single-file-fixture.test-helpers.js';

let refs: SingleFileReferences;
let cacheDir: string;
const opened: any[] = [];

function newPipeline(): any {
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS as never).initPipeline(null, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  opened.push(pipe);
  return pipe;
}

beforeAll(async () => {
  refs = await loadSingleFileReferences();
  cacheDir = await mkdtemp(join(tmpdir(), 'single-file-cache-'));
});
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
  await rm(cacheDir, { recursive: true, force: true });
});

describe('loadSingleFile on an original-layout SDXL checkpoint', () => {
  let pipe: any;
  let report: Awaited<ReturnType<typeof loadSingleFile>>;

  beforeAll(async () => {
    pipe = newPipeline();
    report = await loadSingleFile(pipe, SINGLE_FILE_CHECKPOINT, { config: SINGLE_FILE_CONFIG_REPO, cacheDir });
    // diffusers' SDXL pipeline takes guidance_scale as a call argument; a modular pipeline keeps it on the guider.
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
  });

  it('recognises SDXL base and loads every component from the one file and the config repo', () => {
    expect(report.modelType).toBe('xl_base');
    expect([...report.loaded].sort()).toEqual(['scheduler', 'text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae']);
    for (const name of ['unet', 'vae', 'text_encoder', 'text_encoder_2']) {
      expect(report.built[name]!.weightFiles, name).toEqual([SINGLE_FILE_CHECKPOINT]);
      // fp16 weights on the CPU: converted to float32 once, into the cache entry (never a converted checkpoint copy).
      expect(report.built[name]!.placement, name).toBe('float32-copy');
    }
    expect(pipe.scheduler.constructor.name).toBe('EulerDiscreteScheduler');
  });

  it("text2img from the prompts matches diffusers' StableDiffusionXLPipeline on the converted checkpoint", async () => {
    const inputs = {
      prompt: refs.params.prompt,
      negative_prompt: refs.params.negative_prompt,
      height: refs.params.height,
      width: refs.params.width,
      num_inference_steps: refs.params.num_inference_steps,
      latents: refs.float('text2img.latents'),
    };
    const state = await pipe({ ...inputs, output_type: 'latent' });
    for (const name of ['prompt_embeds', 'negative_prompt_embeds', 'pooled_prompt_embeds', 'negative_pooled_prompt_embeds']) {
      expect(relativeError(state.get(name).data, refs.float(`text2img.${name}`).data), name).toBeLessThan(1e-4);
    }
    const latentsError = relativeError(state.get('latents').data, refs.float('text2img.final_latents').data);
    expect(latentsError).toBeLessThan(1e-4);
    const [image] = (await pipe({ ...inputs, output: 'images' })) as RgbImage[];
    expect([image!.width, image!.height]).toEqual([refs.params.width, refs.params.height]);
    expect(maxAbsDiff(image!.data, refs.uint8('text2img.image_uint8').data)).toBeLessThanOrEqual(2);
  });

  it('a second load takes every graph from the cache', async () => {
    const again = await loadSingleFile(newPipeline(), SINGLE_FILE_CHECKPOINT, { config: SINGLE_FILE_CONFIG_REPO, cacheDir });
    for (const name of ['unet', 'vae', 'text_encoder', 'text_encoder_2']) {
      expect(again.built[name]!.fromCache, name).toBe(true);
      expect(again.built[name]!.cacheEntry, name).toBe(report.built[name]!.cacheEntry);
    }
    expect((await readdir(cacheDir)).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });
});

describe('StableDiffusionXLModularPipeline.fromSingleFile (diffusers\' StableDiffusionXLPipeline.from_single_file)', () => {
  it('builds the SDXL auto blocks pipeline from the one file, and its text2img matches diffusers', async () => {
    const pipe: any = await StableDiffusionXLModularPipeline.fromSingleFile(SINGLE_FILE_CHECKPOINT, {
      config: SINGLE_FILE_CONFIG_REPO,
      cacheDir,
      initOptions: { repoResolver: new LocalFolderRepoResolver(), loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()), logger: silentLogger },
    });
    opened.push(pipe);
    expect(pipe).toBeInstanceOf(StableDiffusionXLModularPipeline);
    expect(pipe.blocks.className).toBe('StableDiffusionXLAutoBlocks');
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
    const latents = await pipe({
      prompt: refs.params.prompt,
      negative_prompt: refs.params.negative_prompt,
      height: refs.params.height,
      width: refs.params.width,
      num_inference_steps: refs.params.num_inference_steps,
      latents: refs.float('text2img.latents'),
      output_type: 'latent',
      output: 'latents',
    });
    expect(relativeError(latents.data, refs.float('text2img.final_latents').data)).toBeLessThan(1e-4);
  });

  it('pipeline.loader.loadSingleFile loads into an existing pipeline', async () => {
    const pipe: any = newPipeline();
    const report = await pipe.loader.loadSingleFile(SINGLE_FILE_CHECKPOINT, { config: SINGLE_FILE_CONFIG_REPO, cacheDir });
    expect(report.modelType).toBe('xl_base');
    expect(pipe.unet).not.toBeNull();
    expect(pipe.tokenizer_2).not.toBeNull();
  });
});
