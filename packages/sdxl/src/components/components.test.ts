import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoadError, ComponentSpec, ComponentLoaderRegistry } from '@modular-diffusers/core';
import { ClassifierFreeGuidance, EulerDiscreteScheduler } from '@modular-diffusers/diffusion';
import { ClipTokenizer, Tensor, VaeImageProcessor, loadOnnxModel, tokenIdsToTensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { AutoencoderKL } from './autoencoder-kl.js';
import { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import { LocalFolderRepoResolver } from './local-folder-resolver.js';
import { registerSdxlComponentLoaders } from './register-loaders.js';

let repo: TinyRepoFixture;
let paramsRepo: TinyRepoFixture;

beforeAll(async () => {
  [repo, paramsRepo] = await Promise.all([createTinyRepo(), createTinyRepo({ vaeEncoderOutput: 'latent_parameters' })]);
});
afterAll(async () => {
  await Promise.all([repo.dispose(), paramsRepo.dispose()]);
});

const load = (fixture: TinyRepoFixture, name: string, type: string, subfolder: string | null = name) =>
  new ComponentSpec(name, type, { repo: fixture.dir, subfolder }).load({ registry: fixture.registry, resolver: fixture.resolver });

describe('LocalFolderRepoResolver', () => {
  it('joins repo and subfolder and reads model_index.json', async () => {
    const resolver = new LocalFolderRepoResolver();
    const location = await resolver.resolve({ repo: repo.dir, subfolder: 'unet', revision: null, variant: null });
    expect(location.path).toBe(join(repo.dir, 'unet'));
    expect(await resolver.readModelIndex(repo.dir)).toMatchObject({ _class_name: 'StableDiffusionXLPipeline', force_zeros_for_empty_prompt: true });
    expect(await resolver.readModelIndex(join(repo.dir, 'unet'))).toBeNull();
  });

  it('names the missing folder', async () => {
    const resolver = new LocalFolderRepoResolver();
    await expect(resolver.resolve({ repo: join(repo.dir, 'nope'), subfolder: null, revision: null, variant: null })).rejects.toThrow(/No local folder/);
    await expect(resolver.resolve({ repo: repo.dir, subfolder: 'nope', revision: null, variant: null })).rejects.toThrow(ComponentLoadError);
  });
});

describe('SDXL component loaders', () => {
  it('registers every SDXL type name', () => {
    const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
    for (const type of ['CLIPTextModel', 'CLIPTextModelWithProjection', 'CLIPTokenizer', 'AutoencoderKL', 'EulerDiscreteScheduler', 'ClassifierFreeGuidance', 'VaeImageProcessor']) {
      expect(registry.has(type), type).toBe(true);
    }
  });

  it('loads tokenizers, scheduler and from-config components', async () => {
    expect(await load(repo, 'tokenizer_2', 'CLIPTokenizer')).toBeInstanceOf(ClipTokenizer);
    const scheduler = (await load(repo, 'scheduler', 'EulerDiscreteScheduler')) as EulerDiscreteScheduler;
    expect(scheduler).toBeInstanceOf(EulerDiscreteScheduler);
    expect(scheduler.config.timestep_spacing).toBe('leading');
    const guider = new ComponentSpec('guider', 'ClassifierFreeGuidance', { config: { guidance_scale: 5 }, defaultCreationMethod: 'fromConfig' })
      .create(null, { registry: repo.registry }) as ClassifierFreeGuidance;
    expect(guider.guidanceScale).toBe(5);
    const processor = new ComponentSpec('p', 'VaeImageProcessor', { config: { vae_scale_factor: 8 }, defaultCreationMethod: 'fromConfig' })
      .create(null, { registry: repo.registry });
    expect(processor).toBeInstanceOf(VaeImageProcessor);
  });

  it('returns the hidden state SDXL asks for and the pooled output of each encoder', async () => {
    const te = (await load(repo, 'text_encoder', 'CLIPTextModel')) as CLIPTextModel;
    const te2 = (await load(repo, 'text_encoder_2', 'CLIPTextModelWithProjection')) as CLIPTextModelWithProjection;
    expect(te2).toBeInstanceOf(CLIPTextModelWithProjection);
    expect(te.numHiddenStates).toBe(3); // 2 layers: hidden_states.0..2
    const ids = tokenIdsToTensor([[49406, 320, 49407, ...new Array<number>(74).fill(49407)]]);
    const raw = await loadOnnxModel(join(repo.dir, 'text_encoder_2', 'model.onnx'));
    const direct = await raw.run({ input_ids: ids });
    await raw.release();
    const penultimate = await te2.encode(ids);
    expect(penultimate.hiddenState.shape).toEqual([1, 77, 1280]);
    expect(penultimate.hiddenState.data).toEqual(direct['hidden_states.1']!.data); // hidden_states[-2] of 3
    expect(penultimate.pooled.data).toEqual(direct.text_embeds!.data);
    expect((await te2.encode(ids, { hiddenStateIndex: -3 })).hiddenState.data).toEqual(direct['hidden_states.0']!.data);
    await expect(te2.encode(ids, { hiddenStateIndex: -4 })).rejects.toThrow(/clip_skip of 2 is too large/);
    expect((await te.encode(ids)).pooled.shape).toEqual([1, 768]);
  });

  it('loads the VAE decoder now and the encoder on first use, from the sibling folders', async () => {
    const vae = (await load(repo, 'vae', 'AutoencoderKL')) as AutoencoderKL;
    expect(vae).toBeInstanceOf(AutoencoderKL);
    expect(vae.scalingFactor).toBe(0.13025);
    expect(vae.scaleFactor).toBe(8);
    expect(vae.decoderLoaded).toBe(true);
    expect(vae.encoderLoaded).toBe(false);
    // A flat mid-grey image: the tiny encoder is P·(avgpool8(x) - bias) / 0.13025 and the decoder inverts it
    // exactly for block-constant images (runtime tiny-sdxl README), so decode(encode(x)) = x.
    const image = new Tensor('float32', new Float32Array(3 * 16 * 16).fill(0.25), [1, 3, 16, 16]);
    const latents = await vae.encode(image);
    expect(vae.encoderLoaded).toBe(true);
    expect(latents.shape).toEqual([1, 4, 2, 2]);
    const back = await vae.decode(latents);
    expect(back.shape).toEqual([1, 3, 16, 16]);
    for (const v of back.data) expect(v).toBeCloseTo(0.25, 4);
  });

  it('samples latent_parameters exports with the generator or takes the mean (argmax)', async () => {
    const plain = (await load(repo, 'vae', 'AutoencoderKL')) as AutoencoderKL;
    const params = (await load(paramsRepo, 'vae', 'AutoencoderKL')) as AutoencoderKL;
    const image = new Tensor('float32', new Float32Array(3 * 16 * 16).fill(-0.5), [1, 3, 16, 16]);
    const mean = await plain.encode(image);
    const argmax = await params.encode(image, { sampleMode: 'argmax' });
    expect(argmax.data).toEqual(mean.data);
    // log-variance -30 gives std exp(-15) = 3.06e-7: a sample equals the mean to float32 precision.
    const sampled = await params.encode(image);
    for (let i = 0; i < sampled.size; i++) expect(sampled.data[i]).toBeCloseTo(mean.data[i]!, 5);
  });

  it('fails only when the missing VAE half is used', async () => {
    const resolver = new LocalFolderRepoResolver();
    const vae = (await new ComponentSpec('vae', 'AutoencoderKL', { repo: repo.dir, subfolder: 'vae' }).load({
      registry: repo.registry,
      resolver,
      encoderSubfolder: 'missing_encoder',
    })) as AutoencoderKL;
    const image = new Tensor('float32', new Float32Array(3 * 8 * 8), [1, 3, 8, 8]);
    await expect(vae.encode(image)).rejects.toThrow(/Could not load the VAE encoder.*missing_encoder/);
    expect((await vae.decode(Tensor.zeros('float32', [1, 4, 1, 1]))).shape).toEqual([1, 3, 8, 8]);
  });
});
