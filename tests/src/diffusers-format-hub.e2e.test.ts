/**
 * A diffusers-format-only SDXL repo (the real-architecture fixture repo
 * without its ONNX files) served by the local Hub and downloaded by the real
 * @huggingface/hub client into a Hugging Face cache: the loaders build every
 * model from the cached safetensors (symlinks into blobs/, which the graphs
 * read in place), the built graphs land in $HF_HOME/modular-diffusers/,
 * and the text encoders give diffusers' own embeddings for the prompts.
 */
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { HubRepoResolver } from '@modular-diffusers/hub';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { readSafetensorsHeader } from '@modular-diffusers/model-builder';
import { Tensor } from '@modular-diffusers/runtime';
import { TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, workDir } from './e2e-kit.js';

const REAL_ARCH = join(REPO_ROOT, 'packages', 'sdxl', 'fixtures', 'real-arch');
const REPO = 'someone/tiny-sdxl-diffusers-format';
let work: string;
let hub: HubServer;
const previousHfHome = process.env.HF_HOME;

beforeAll(async () => {
  work = await workDir();
  const folder = join(work, 'repo');
  await cp(join(REAL_ARCH, 'repo'), folder, { recursive: true, filter: (src) => !/\.onnx(_data)?$/.test(src) && !/vae_(en|de)coder/.test(src) });
  hub = await startHubServer({ root: join(work, 'hub') });
  await hub.importFolder(REPO, folder);
  process.env.HF_HOME = join(work, 'hf-home');
});

afterAll(async () => {
  await hub?.close();
  if (previousHfHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = previousHfHome;
  if (work) await rm(work, { recursive: true, force: true });
});

async function reference(name: string): Promise<Tensor<'float32'>> {
  const path = join(REAL_ARCH, 'references', 'references.safetensors');
  const info = (await readSafetensorsHeader(path)).tensors.get(name)!;
  const bytes = await readFile(path);
  return new Tensor('float32', new Float32Array(new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer), info.shape);
}

function relativeError(actual: Tensor, expected: Tensor): number {
  let diff = 0;
  let magnitude = 0;
  for (let i = 0; i < expected.size; i++) {
    diff = Math.max(diff, Math.abs((actual.data[i] as number) - (expected.data[i] as number)));
    magnitude = Math.max(magnitude, Math.abs(expected.data[i] as number));
  }
  return diff / magnitude;
}

describe('a diffusers-format-only SDXL repo from the Hub', () => {
  it.each([null, 'fp16'] as const)('variant %s: builds every model from the Hugging Face cache and encodes like diffusers', async (variant) => {
    const resolver = new HubRepoResolver({ hubUrl: hub.url, cacheDir: join(work, 'hf-home', 'hub') });
    const pipe = (SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS) as any).initPipeline(REPO, { repoResolver: resolver });
    await pipe.loadComponents(variant ? { variant } : {});
    const state = await pipe({
      prompt: 'a photo of a red fox in the snow', negative_prompt: 'blurry low quality', num_inference_steps: 4, height: 64, width: 96,
      latents: await reference('text2img_prompt.latents'),
    });
    expect(relativeError(state.get('prompt_embeds'), await reference('text2img_prompt.prompt_embeds'))).toBeLessThan(variant ? 2e-3 : 1e-5);
    expect(state.get('images')[0].width).toBe(96);

    const builtDir = join(work, 'hf-home', 'modular-diffusers', 'built-graphs');
    const manifests = await Promise.all((await readdir(builtDir)).map(async (entry) => JSON.parse(await readFile(join(builtDir, entry, 'manifest.json'), 'utf8'))));
    const classes = manifests.map((m) => m.className).sort();
    expect(classes).toEqual(expect.arrayContaining(['AutoencoderKL', 'CLIPTextModel', 'CLIPTextModelWithProjection', 'UNet2DConditionModel']));
    for (const manifest of manifests) {
      if (manifest.placement === 'in-place') expect(manifest.externalDataFolder).toMatch(/models--someone--tiny-sdxl-diffusers-format\/blobs$/);
      else expect(manifest.externalDataFolder).toBe('.');
    }
    for (const component of Object.values(pipe.components)) await (component as { release?: () => Promise<void> })?.release?.();
  });
});
