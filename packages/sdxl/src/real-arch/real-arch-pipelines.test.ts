/**
 * The public API on real-architecture SDXL exports, in both layouts users find on the Hub:
 * stabilityai's (ONNX beside the diffusers weights, vae/config.json present) and a pure
 * Optimum output folder (no vae/ folder, the VAE's config in vae_decoder/). The models are
 * diffusers' own UNet2DConditionModel, AutoencoderKL and CLIP encoders with random weights;
 * every expected number was computed by diffusers (tools/reference/diffusers-fixtures).
 * Tolerances are the issue's: latents within 1e-5 of their magnitude, uint8 within 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger, type ModularPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator, type RgbImage } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';
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
} from './real-arch-fixture.test-helpers.js';

let refs: References;
let optimum: AssembledRepo;
const opened: any[] = [];

beforeAll(async () => {
  refs = await loadReferences();
  optimum = await assembleRepo(await optimumLayout());
});
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
  await optimum.dispose();
});

async function pipeline(dir: string, blocks: Map<string, any> | Record<string, any>): Promise<any> {
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(blocks as never).initPipeline(dir, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  await pipe.loadComponents();
  // diffusers' SDXL pipelines take guidance_scale as a call argument; modular pipelines keep it on the guider.
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
  opened.push(pipe);
  return pipe;
}

const givenEmbeddings = () => ({
  prompt_embeds: refs.float('text2img.prompt_embeds'),
  negative_prompt_embeds: refs.float('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: refs.float('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: refs.float('text2img.negative_pooled_prompt_embeds'),
  height: refs.params.height,
  width: refs.params.width,
  num_inference_steps: refs.params.num_inference_steps,
});

const LAYOUTS: Array<[string, () => string]> = [
  ["stabilityai's layout (ONNX beside the diffusers weights)", () => REAL_ARCH_REPO],
  ['a pure Optimum output folder (no vae/)', () => optimum.dir],
];

describe.each(LAYOUTS)('%s', (_name, dir) => {
  let text2img: any;
  let img2img: any;
  let inpaint: any;

  beforeAll(async () => {
    text2img = await pipeline(dir(), TEXT2IMAGE_BLOCKS);
    img2img = await pipeline(dir(), IMAGE2IMAGE_BLOCKS);
    inpaint = await pipeline(dir(), INPAINT_BLOCKS);
  });

  it('TEXT2IMAGE_BLOCKS from given latents and embeddings matches StableDiffusionXLPipeline (4 steps, CFG 5)', async () => {
    const state = await text2img({ ...givenEmbeddings(), latents: refs.float('text2img.latents'), output_type: 'latent' });
    expect(relativeError(state.get('latents').data, refs.float('text2img.final_latents').data)).toBeLessThan(1e-5);
    expect(Array.from(state.get('timesteps').data)).toEqual([751, 501, 251, 1]);
    const [image] = (await text2img({ ...givenEmbeddings(), latents: refs.float('text2img.latents'), output: 'images' })) as RgbImage[];
    expect([image!.width, image!.height]).toEqual([refs.params.width, refs.params.height]);
    expect(maxAbsDiff(image!.data, refs.uint8('text2img.image_uint8').data)).toBeLessThanOrEqual(1);
  });

  it('TEXT2IMAGE_BLOCKS from the prompts, through both tokenizers and CLIP encoders, matches diffusers', async () => {
    const state = await text2img({
      prompt: refs.params.prompt,
      negative_prompt: refs.params.negative_prompt,
      height: refs.params.height,
      width: refs.params.width,
      num_inference_steps: refs.params.num_inference_steps,
      latents: refs.float('text2img_prompt.latents'),
      output_type: 'latent',
    });
    for (const name of ['prompt_embeds', 'negative_prompt_embeds', 'pooled_prompt_embeds', 'negative_pooled_prompt_embeds']) {
      expect(relativeError(state.get(name).data, refs.float(`text2img_prompt.${name}`).data), name).toBeLessThan(1e-5);
    }
    expect(relativeError(state.get('latents').data, refs.float('text2img_prompt.final_latents').data)).toBeLessThan(1e-5);
  });

  it('IMAGE2IMAGE_BLOCKS at strength 0.5 matches StableDiffusionXLImg2ImgPipeline with the same seeded generator', async () => {
    const inputs = { ...givenEmbeddings(), image: referenceImage(refs), strength: 0.5 };
    const state = await img2img({ ...inputs, generator: new Generator(refs.params.img2img.seed), output_type: 'latent' });
    expect(Array.from(state.get('timesteps').data)).toEqual([251, 1]);
    expect(relativeError(state.get('latents').data, refs.float('img2img.final_latents').data)).toBeLessThan(1e-5);
    const [image] = (await img2img({ ...inputs, generator: new Generator(refs.params.img2img.seed), output: 'images' })) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.uint8('img2img.image_uint8').data)).toBeLessThanOrEqual(1);
  });

  it("INPAINT_BLOCKS at strength 0.75 matches diffusers' modular SDXL inpaint blocks with the same seeded generator", async () => {
    const mask = refs.uint8('inpaint.mask_uint8');
    const inputs = {
      ...givenEmbeddings(),
      image: referenceImage(refs),
      mask_image: { width: mask.shape[1]!, height: mask.shape[0]!, channels: 1, data: mask.data },
      strength: 0.75,
    };
    const state = await inpaint({ ...inputs, generator: new Generator(refs.params.inpaint.seed), output_type: 'latent' });
    expect(relativeError(state.get('latents').data, refs.float('inpaint.final_latents').data)).toBeLessThan(1e-5);
    const [image] = (await inpaint({ ...inputs, generator: new Generator(refs.params.inpaint.seed), output: 'images' })) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.uint8('inpaint.image_uint8').data)).toBeLessThanOrEqual(1);
  });
});
