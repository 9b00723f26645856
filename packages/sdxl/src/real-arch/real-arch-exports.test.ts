/**
 * Each real-architecture export on its own and the export variants users meet: int64 [batch] vs
 * float scalar timesteps, fp16 exports (and the SDXL-VAE fp16 overflow), external data files, and
 * text encoders that are never opened when the embeddings are given. Expected numbers come from
 * diffusers' own modules (packages/sdxl/fixtures/real-arch, tools/reference/diffusers-fixtures).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ComponentLoadError, ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { mul, type RgbImage } from '@modular-diffusers/runtime';
import { Float16OverflowError } from '../components/float16-overflow-error.js';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { SdxlInputError } from '../errors.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import {
  REAL_ARCH_REPO,
  assembleRepo,
  loadReferences,
  maxAbsDiff,
  optimumLayout,
  relativeError,
  type AssembledRepo,
  type References,
} from './real-arch-fixture.test-helpers.js';

let refs: References;
const opened: any[] = [];
const assembled: AssembledRepo[] = [];

beforeAll(async () => {
  refs = await loadReferences();
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
  for (const repo of assembled) await repo.dispose();
});

async function pipeline(dir: string, names: readonly string[] | null = null): Promise<any> {
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(dir, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  await pipe.loadComponents(names);
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
  opened.push(pipe);
  return pipe;
}

/** The Optimum layout with some files swapped for variants. */
async function optimumWith(swaps: Record<string, string | null>): Promise<string> {
  const files = await optimumLayout();
  for (const [to, from] of Object.entries(swaps)) {
    if (from === null) delete files[to];
    else files[to] = from;
  }
  const repo = await assembleRepo(files);
  assembled.push(repo);
  return repo.dir;
}

const unetCall = () => ({
  sample: refs.float('unet.sample'),
  timestep: refs.params['unet.timestep'] as number,
  encoderHiddenStates: refs.float('unet.encoder_hidden_states'),
  textEmbeds: refs.float('unet.text_embeds'),
  timeIds: refs.float('unet.time_ids'),
});

const embeddings = () => ({
  prompt_embeds: refs.float('text2img.prompt_embeds'),
  negative_prompt_embeds: refs.float('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: refs.float('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: refs.float('text2img.negative_pooled_prompt_embeds'),
  latents: refs.float('text2img.latents'),
  height: refs.params.height,
  width: refs.params.width,
  num_inference_steps: refs.params.num_inference_steps,
});

describe('the exports, one by one, against diffusers', () => {
  let pipe: any;
  beforeAll(async () => {
    pipe = await pipeline(REAL_ARCH_REPO);
  });

  it('UNet2DConditionModel: one call (batch 2, timestep 751)', async () => {
    const out = await pipe.unet.predict(unetCall());
    expect(out.shape).toEqual([2, 4, 8, 12]);
    expect(relativeError(out.data, refs.float('unet.out_sample').data)).toBeLessThan(1e-5);
  });

  it('AutoencoderKL: encode gives latent_dist.parameters (argmax = their mean), decode gives the image', async () => {
    const mean = await pipe.vae.encode(refs.float('vae.encode.sample'), { sampleMode: 'argmax' });
    const parameters = refs.float('vae.encode.latent_parameters');
    expect(mean.shape).toEqual([1, 4, 8, 12]);
    expect(relativeError(mean.data, parameters.data.subarray(0, mean.size))).toBeLessThan(1e-5);
    const image = await pipe.vae.decode(refs.float('vae.decode.latent_sample'));
    expect(relativeError(image.data, refs.float('vae.decode.sample').data)).toBeLessThan(1e-5);
  });

  it("CLIP tokenizers give diffusers' token ids, and both encoders their hidden states and pooled outputs", async () => {
    const prompts = [refs.params.prompt, refs.params.negative_prompt];
    for (const [tokenizer, ref] of [
      [pipe.tokenizer, 'clip.tokenizer.input_ids'],
      [pipe.tokenizer_2, 'clip.tokenizer_2.input_ids'],
    ] as const) {
      const { inputIds } = await tokenizer.encode(prompts, { padding: 'max_length', maxLength: 77, truncation: true });
      expect(inputIds.flat()).toEqual(Array.from(refs.int64(ref).data, Number));
    }
    const one = await pipe.text_encoder.encode(refs.int64('clip.tokenizer.input_ids'));
    expect(relativeError(one.hiddenState.data, refs.float('clip.text_encoder.hidden_states_penultimate').data)).toBeLessThan(1e-5);
    expect(relativeError(one.pooled.data, refs.float('clip.text_encoder.pooler_output').data)).toBeLessThan(1e-5);
    const two = await pipe.text_encoder_2.encode(refs.int64('clip.tokenizer_2.input_ids'));
    expect(relativeError(two.hiddenState.data, refs.float('clip.text_encoder_2.hidden_states_penultimate').data)).toBeLessThan(1e-5);
    expect(relativeError(two.pooled.data, refs.float('clip.text_encoder_2.text_embeds').data)).toBeLessThan(1e-5);
  });
});

describe('VAE encoder outputs', () => {
  it("an older export's latent_sample (drawn inside the graph) lies in the distribution latent_parameters describes", async () => {
    const pipe = await pipeline(await optimumWith({ 'vae_encoder/model.onnx': 'variants/vae-encoder-latent-sample/model.onnx' }), ['vae']);
    const drawn = await pipe.vae.encode(refs.float('vae.encode.sample'));
    const parameters = refs.float('vae.encode.latent_parameters').data;
    const n = drawn.size;
    expect(drawn.shape).toEqual([1, 4, 8, 12]);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const std = Math.exp(0.5 * Math.min(20, Math.max(-30, parameters[n + i]!)));
      if (Math.abs(drawn.data[i]! - parameters[i]!) > 6 * std) outside++;
    }
    expect(outside).toBe(0);
    expect(maxAbsDiff(drawn.data, parameters.subarray(0, n))).toBeGreaterThan(0); // a draw, not the mean
  });
});

describe('timestep inputs', () => {
  it('an older export with int64 timestep [batch] and a newer one with a float32 scalar give the same prediction', async () => {
    const older = await pipeline(REAL_ARCH_REPO, ['unet']);
    expect(older.unet.model.input('timestep')).toMatchObject({ dtype: 'int64', dims: ['batch_size'] });
    const newer = await pipeline(await optimumWith({ 'unet/model.onnx': 'variants/unet-float-timestep/model.onnx' }), ['unet']);
    expect(newer.unet.model.input('timestep')).toMatchObject({ dtype: 'float32', dims: [] });
    for (const pipe of [older, newer]) {
      expect(relativeError((await pipe.unet.predict(unetCall())).data, refs.float('unet.out_sample').data)).toBeLessThan(1e-5);
    }
  });

  it('the float-timestep export runs text2img to the same latents', async () => {
    const pipe = await pipeline(await optimumWith({ 'unet/model.onnx': 'variants/unet-float-timestep/model.onnx' }));
    const latents = await pipe({ ...embeddings(), output: 'latents' });
    expect(relativeError(latents.data, refs.float('text2img.final_latents').data)).toBeLessThan(1e-5);
  });
});

describe('fp16 exports', () => {
  const fp16 = () =>
    optimumWith({
      'unet/model.onnx': 'variants/fp16/unet/model.onnx',
      'unet/model.onnx_data': null,
      'vae_decoder/model.onnx': 'variants/fp16/vae_decoder/model.onnx',
      'vae_encoder/model.onnx': 'variants/fp16/vae_encoder/model.onnx',
    });

  it('take float16 inputs and give float16 outputs; the pipeline casts at the edges and matches to float16 precision', async () => {
    const pipe = await pipeline(await fp16());
    expect([pipe.unet.dtype, pipe.vae.dtype]).toEqual(['float16', 'float16']);
    expect(pipe.unet.model.input('timestep')).toMatchObject({ dtype: 'float16', dims: [] });
    expect(pipe.unet.model.output('out_sample')?.dtype).toBe('float16');
    const latents = await pipe({ ...embeddings(), output: 'latents' });
    expect(latents.dtype).toBe('float32');
    // float16 keeps 11 significant bits (relative rounding 2^-11 = 4.9e-4 per value); 4 steps compound it.
    expect(relativeError(latents.data, refs.float('text2img.final_latents').data)).toBeLessThan(5e-3);
    const [image] = (await pipe({ ...embeddings(), output: 'images' })) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.uint8('text2img.image_uint8').data)).toBeLessThanOrEqual(2);
  });

  it("say what to load instead when the fp16 VAE overflows (NaN/inf in the decoded image), as SDXL's original VAE does", async () => {
    const pipe = await pipeline(await fp16(), ['vae']);
    // Latents far outside the VAE's range drive its float16 activations past 65504.
    const huge = mul(refs.float('vae.decode.latent_sample'), 1e5);
    const error = await pipe.vae.decode(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Float16OverflowError);
    expect((error as Error).message).toMatch(/madebyollin\/sdxl-vae-fp16-fix/);
    expect((error as Error).message).toMatch(/float32 VAE decoder/);
    // The float32 decoder takes the same latents without NaN.
    const fp32 = await pipeline(REAL_ARCH_REPO, ['vae']);
    expect((await fp32.vae.decode(huge)).data.every(Number.isFinite)).toBe(true);
  });
});

describe('external data', () => {
  it("loads weights kept in model.onnx_data beside the graph (stabilityai's unet/ and text_encoder_2/)", async () => {
    const pipe = await pipeline(REAL_ARCH_REPO, ['unet', 'text_encoder_2']);
    expect(pipe.unet.sizeBytes).toBeGreaterThan(2_000_000); // graph plus its data file
    expect(relativeError((await pipe.unet.predict(unetCall())).data, refs.float('unet.out_sample').data)).toBeLessThan(1e-5);
    const two = await pipe.text_encoder_2.encode(refs.int64('clip.tokenizer_2.input_ids'));
    expect(relativeError(two.pooled.data, refs.float('clip.text_encoder_2.text_embeds').data)).toBeLessThan(1e-5);
  });

  it('names the missing data file at loadComponents(), before any model runs', async () => {
    const dir = await optimumWith({});
    await rm(join(dir, 'text_encoder_2', 'model.onnx_data'));
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(dir, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    const error = await pipe.loadComponents().catch((e: unknown) => e);
    opened.push(pipe);
    expect(error).toBeInstanceOf(ComponentLoadError);
    expect((error as Error).message).toMatch(/'text_encoder_2':.*keeps its weights in 'model\.onnx_data', which is missing/);
  });
});

describe('given embeddings, no text encoder is opened', () => {
  it('loadComponents() creates no text-encoder session, and a run with all four embeddings creates none either', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const pipe = await pipeline(REAL_ARCH_REPO);
    expect(create).toHaveBeenCalledTimes(2); // unet and vae_decoder
    const latents = await pipe({ ...embeddings(), output: 'latents' });
    expect(relativeError(latents.data, refs.float('text2img.final_latents').data)).toBeLessThan(1e-5);
    expect(create).toHaveBeenCalledTimes(2);
    expect([pipe.text_encoder.model.sessionCreations, pipe.text_encoder_2.model.sessionCreations]).toEqual([0, 0]);
    // A prompt opens them, once each.
    await pipe({ ...embeddings(), prompt_embeds: undefined, pooled_prompt_embeds: undefined, prompt: refs.params.prompt, output: 'latents' });
    expect(create).toHaveBeenCalledTimes(4);
  });

  it('runs with the tokenizers and encoders not loaded at all, and says what is missing only when a prompt must be encoded', async () => {
    const pipe = await pipeline(REAL_ARCH_REPO, ['unet', 'vae', 'scheduler']);
    expect([pipe.text_encoder, pipe.tokenizer, pipe.text_encoder_2, pipe.tokenizer_2]).toEqual([null, null, null, null]);
    const latents = await pipe({ ...embeddings(), output: 'latents' });
    expect(relativeError(latents.data, refs.float('text2img.final_latents').data)).toBeLessThan(1e-5);
    // force_zeros_for_empty_prompt: no negative given, zeros used; nothing to encode either.
    const { negative_prompt_embeds: _n, negative_pooled_prompt_embeds: _p, ...positiveOnly } = embeddings();
    const state = await pipe({ ...positiveOnly, num_inference_steps: 1, output_type: 'latent' });
    expect(state.get('negative_prompt_embeds').data.every((v: number) => v === 0)).toBe(true);
    await expect(pipe({ ...positiveOnly, negative_prompt: 'blurry', num_inference_steps: 1 })).rejects.toThrow(SdxlInputError);
    await expect(pipe({ prompt: 'a red fox', height: 64, width: 96, num_inference_steps: 1 })).rejects.toThrow(/needs tokenizer_2 and text_encoder_2; load them/);
  });
});
