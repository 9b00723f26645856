/**
 * Real-architecture SDXL exports served by the local Hub server and loaded the way a user loads
 * a Hub repo: initPipeline('<owner>/<name>') + loadComponents() over the real @huggingface/hub
 * client (HubRepoResolver). Two layouts: stabilityai/stable-diffusion-xl-base-1.0's (ONNX beside
 * the diffusers weights) and a pure Optimum output folder (no vae/). The models and the expected
 * numbers are diffusers' own (packages/sdxl/fixtures/real-arch, tools/reference/diffusers-fixtures).
 */
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { HubRepoResolver } from '@modular-diffusers/hub';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { Generator, type RgbImage } from '@modular-diffusers/runtime';
import { AUTO_BLOCKS, IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import {
  REAL_ARCH_REPO,
  assembleRepo,
  loadReferences,
  maxAbsDiff,
  optimumLayout,
  referenceImage,
  relativeError,
  type AssembledRepo,
  type References,
} from '../../packages/sdxl/src/real-arch/real-arch-fixture.test-helpers.js';
import { workDir } from './e2e-kit.js';

const STABILITY = 'stabilityai/tiny-real-arch-sdxl';
const OPTIMUM = 'optimum/tiny-real-arch-sdxl-onnx';

let work: string;
let hub: HubServer;
let optimum: AssembledRepo;
let refs: References;
const opened: any[] = [];

beforeAll(async () => {
  work = await workDir();
  refs = await loadReferences();
  optimum = await assembleRepo(await optimumLayout());
  hub = await startHubServer({ root: join(work, 'hub') });
  await hub.importFolder(STABILITY, REAL_ARCH_REPO);
  await hub.importFolder(OPTIMUM, optimum.dir);
}, 120_000);

afterAll(async () => {
  for (const pipe of opened) for (const c of Object.values(pipe.components)) await (c as { release?: () => Promise<void> } | null)?.release?.();
  await hub?.close();
  await optimum?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

async function fromHub(repo: string, blocks: Map<string, any> | Record<string, any>, cacheDir: string): Promise<any> {
  const resolver = new HubRepoResolver({ hubUrl: hub.url, cacheDir, env: {} });
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(blocks as never).initPipeline(repo, { repoResolver: resolver, logger: silentLogger });
  await pipe.loadComponents();
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
  opened.push(pipe);
  return pipe;
}

async function cachedFiles(cacheDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(cacheDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isDirectory() && entry.parentPath.includes('snapshots')) files.push(relative(cacheDir, join(entry.parentPath, entry.name)));
  }
  return files.map((f) => f.split('/snapshots/')[1]!.split('/').slice(1).join('/')).sort();
}

const base = () => ({
  height: refs.params.height,
  width: refs.params.width,
  num_inference_steps: refs.params.num_inference_steps,
});
const embeddings = () => ({
  ...base(),
  prompt_embeds: refs.float('text2img.prompt_embeds'),
  negative_prompt_embeds: refs.float('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: refs.float('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: refs.float('text2img.negative_pooled_prompt_embeds'),
});

describe.each([
  ['stabilityai layout', STABILITY],
  ['pure Optimum layout', OPTIMUM],
])('%s from the local Hub', (_name, repo) => {
  it('TEXT2IMAGE_BLOCKS (from the prompts), IMAGE2IMAGE_BLOCKS and INPAINT_BLOCKS match diffusers', async () => {
    const cacheDir = join(work, `cache-${repo.replace('/', '--')}`);
    const text2img = await fromHub(repo, TEXT2IMAGE_BLOCKS, cacheDir);
    const latents = await text2img({
      ...base(),
      prompt: refs.params.prompt,
      negative_prompt: refs.params.negative_prompt,
      latents: refs.float('text2img_prompt.latents'),
      output: 'latents',
    });
    expect(relativeError(latents.data, refs.float('text2img_prompt.final_latents').data)).toBeLessThan(1e-5);
    const [image] = (await text2img({ ...embeddings(), latents: refs.float('text2img.latents'), output: 'images' })) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.uint8('text2img.image_uint8').data)).toBeLessThanOrEqual(1);

    const img2img = await fromHub(repo, IMAGE2IMAGE_BLOCKS, cacheDir);
    const i2i = await img2img({ ...embeddings(), image: referenceImage(refs), strength: 0.5, generator: new Generator(refs.params.img2img.seed), output: 'latents' });
    expect(relativeError(i2i.data, refs.float('img2img.final_latents').data)).toBeLessThan(1e-5);

    const inpaint = await fromHub(repo, INPAINT_BLOCKS, cacheDir);
    const mask = refs.uint8('inpaint.mask_uint8');
    const [repainted] = (await inpaint({
      ...embeddings(),
      image: referenceImage(refs),
      mask_image: { width: mask.shape[1]!, height: mask.shape[0]!, channels: 1, data: mask.data },
      strength: 0.75,
      generator: new Generator(refs.params.inpaint.seed),
      output: 'images',
    })) as RgbImage[];
    expect(maxAbsDiff(repainted!.data, refs.uint8('inpaint.image_uint8').data)).toBeLessThanOrEqual(1);

    // What came down: the ONNX parts with their external data, configs, tokenizers, scheduler; no fp16 variants.
    const files = await cachedFiles(cacheDir);
    for (const f of ['unet/model.onnx', 'unet/model.onnx_data', 'text_encoder_2/model.onnx_data', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx', 'tokenizer/vocab.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.includes('.fp16.'))).toEqual([]);
  }, 120_000);

  it('AUTO_BLOCKS loads without the optional controlnet and image_encoder the repo does not have (HubRepoResolver.exists)', async () => {
    const resolver = new HubRepoResolver({ hubUrl: hub.url, cacheDir: join(work, `cache-auto-${repo.replace('/', '--')}`), env: {} });
    expect(await resolver.exists({ repo, subfolder: 'unet', revision: null, variant: null })).toBe(true);
    expect(await resolver.exists({ repo, subfolder: 'controlnet', revision: null, variant: null })).toBe(false);
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(AUTO_BLOCKS).initPipeline(repo, { repoResolver: resolver, logger: silentLogger });
    const report = await pipe.loadComponents();
    opened.push(pipe);
    expect(report.failed).toEqual([]);
    expect(report.skipped.map((s: { name: string }) => s.name).sort()).toEqual(['controlnet', 'image_encoder']);
  }, 120_000);
});
