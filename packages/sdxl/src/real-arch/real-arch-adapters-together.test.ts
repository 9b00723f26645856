/**
 * Adapters that rebuild the same UNet must not undo each other: a LoRA fused into the UNet stays
 * through the rebuild a ControlNet triggers (residual inputs) and through loadIpAdapter (the UNet
 * loaded again with the image adapter), as LoRA layers stay on a diffusers UNet when either is
 * added; and a LoRA fuses into models taken from a single-file checkpoint, whose weight names
 * differ from the diffusers names the LoRA uses.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import type { RgbImage, Tensor } from '@modular-diffusers/runtime';
import { CONTROLNET_TEXT2IMAGE_BLOCKS, IP_ADAPTER_BLOCKS } from '../auto-presets.js';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import '../index.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { loadSingleFile } from '../single-file/load-single-file.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import { ADAPTER_FIXTURES_DIR, REAL_ARCH_DIR, loadReferences, relativeError, type References } from './real-arch-fixture.test-helpers.js';
import { SINGLE_FILE_CHECKPOINT, SINGLE_FILE_CONFIG_REPO } from './single-file-fixture.test-helpers.js';

const KOHYA = join(ADAPTER_FIXTURES_DIR, 'lora', 'kohya', 'tiny_lora_kohya.safetensors');
const CONTROLNET = join(ADAPTER_FIXTURES_DIR, 'controlnet', 'controlnet-tiny-sdxl');
const IP_ADAPTER_REPO = join(ADAPTER_FIXTURES_DIR, 'ip-adapter', 'repo');
const IP_WEIGHTS = { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' } as const;

let base: References;
let controlRefs: References;
let ipRefs: References;
let temp: string;
const previousHfHome = process.env.HF_HOME;
let repo: string;
const opened: any[] = [];

beforeAll(async () => {
  base = await loadReferences();
  controlRefs = await loadReferences(join(ADAPTER_FIXTURES_DIR, 'controlnet', 'references'));
  ipRefs = await loadReferences(join(ADAPTER_FIXTURES_DIR, 'ip-adapter', 'references'));
  temp = await mkdtemp(join(tmpdir(), 'sdxl-adapters-together-'));
  process.env.HF_HOME = join(temp, 'hf-home');
  // The real-arch repo without its ONNX exports: every model is built, so a LoRA can be fused.
  repo = join(temp, 'repo');
  await cp(join(REAL_ARCH_DIR, 'repo'), repo, { recursive: true, filter: (src) => !/\.onnx(_data)?$/.test(src) && !/vae_(en|de)coder/.test(src) });
});
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
  if (previousHfHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = previousHfHome;
  await rm(temp, { recursive: true, force: true });
});

async function pipeline(blocks: any, components?: string[]): Promise<any> {
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(blocks).initPipeline(repo, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  if (components) await pipe.loadComponents(components);
  else await pipe.loadComponents({ onError: 'warn' });
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
  opened.push(pipe);
  return pipe;
}

const embeds = (refs: References) => ({
  prompt_embeds: refs.float('text2img.prompt_embeds'),
  negative_prompt_embeds: refs.float('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: refs.float('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: refs.float('text2img.negative_pooled_prompt_embeds'),
  latents: refs.float('text2img.latents'),
});

async function finalLatents(pipe: any, inputs: Record<string, unknown>): Promise<Float32Array> {
  return ((await pipe({ ...inputs, output_type: 'latent' })).get('latents') as Tensor<'float32'>).data;
}

describe('a fused LoRA stays through the UNet rebuilds other adapters make', () => {
  it('ControlNet: the UNet rebuilt with residual inputs keeps the fused LoRA', async () => {
    const controlImage = (): RgbImage => {
      const { data, shape } = controlRefs.uint8('text2img.control_image_uint8');
      return { height: shape[0]!, width: shape[1]!, channels: 3, data };
    };
    const inputs = {
      ...embeds(controlRefs),
      height: controlRefs.params.height,
      width: controlRefs.params.width,
      num_inference_steps: controlRefs.params.num_inference_steps,
      control_image: controlImage(),
      controlnet_conditioning_scale: 0.5,
    };
    const controlOnly = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS);
    await controlOnly.loadComponents('controlnet', { repo: CONTROLNET });
    const withoutLora = await finalLatents(controlOnly, inputs);
    // The ControlNet-only run is diffusers' (so the rebuild itself is right)...
    expect(relativeError(withoutLora, controlRefs.float('text2img.final_latents').data)).toBeLessThan(1e-4);

    const both = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS);
    await both.loadComponents('controlnet', { repo: CONTROLNET });
    await both.loadLoraWeights(KOHYA, { adapterName: 'tiny' });
    const unet = both.unet as UNet2DConditionModel;
    expect(unet.acceptsControlNetResiduals).toBe(false);
    const withLora = await finalLatents(both, inputs);
    expect(unet.acceptsControlNetResiduals).toBe(true);
    // ...and the LoRA still moves it after the rebuild: a dropped LoRA would give withoutLora exactly.
    expect(relativeError(withLora, withoutLora)).toBeGreaterThan(0.01);
    // Unloading the LoRA gives the ControlNet-only run back, residual inputs kept.
    await both.unloadLoraWeights();
    expect(unet.acceptsControlNetResiduals).toBe(true);
    expect(relativeError(await finalLatents(both, inputs), withoutLora)).toBeLessThan(1e-6);
  });

  it('IP-Adapter: loadIpAdapter loads the UNet again with the image adapter, and the LoRA is fused into it', async () => {
    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('ip_adapter', IP_ADAPTER_BLOCKS.get('ip_adapter')!, 0);
    const names = ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae', 'scheduler'];
    const inputs = { ...embeds(base), height: ipRefs.params.height, width: ipRefs.params.width, num_inference_steps: ipRefs.params.num_inference_steps };

    const plain = await pipeline(blocks, names);
    const baseLatents = await finalLatents(plain, inputs);
    await plain.loadLoraWeights(KOHYA, { adapterName: 'tiny' });
    const loraOnly = await finalLatents(plain, inputs);
    expect(relativeError(loraOnly, baseLatents)).toBeGreaterThan(0.01);

    await plain.loader.loadIpAdapter(IP_ADAPTER_REPO, IP_WEIGHTS);
    expect((plain.unet as UNet2DConditionModel).acceptsImageEmbeds).toBe(true);
    // No adapter image: the IP-Adapter adds nothing, so the run is the LoRA-only one (not the base one).
    const afterIp = await finalLatents(plain, inputs);
    expect(relativeError(afterIp, loraOnly)).toBeLessThan(1e-5);

    await plain.loader.unloadIpAdapter();
    expect(relativeError(await finalLatents(plain, inputs), loraOnly)).toBeLessThan(1e-5);
  });
});

describe('a LoRA on a pipeline loaded from a single-file checkpoint', () => {
  it('fuses into the UNet and text encoders taken from the checkpoint, and unloading gives the base run back', async () => {
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS as never).initPipeline(null, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    opened.push(pipe);
    await loadSingleFile(pipe, SINGLE_FILE_CHECKPOINT, { config: SINGLE_FILE_CONFIG_REPO });
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
    const inputs = { prompt: 'a photo of a red fox in the snow', negative_prompt: 'blurry', num_inference_steps: 3, height: 64, width: 96, latents: base.float('text2img.latents') };
    const first = await finalLatents(pipe, inputs);
    await pipe.loadLoraWeights(KOHYA, { adapterName: 'tiny' });
    expect(pipe.getActiveAdapters()).toEqual(['tiny']);
    const fused = await finalLatents(pipe, inputs);
    expect(relativeError(fused, first)).toBeGreaterThan(0.01);
    await pipe.unloadLoraWeights();
    expect(relativeError(await finalLatents(pipe, inputs), first)).toBe(0);
  });

  it('runs a ControlNet with the UNet taken from the checkpoint: the UNet is rebuilt with residual inputs from its recipe', async () => {
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_TEXT2IMAGE_BLOCKS as never).initPipeline(null, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    opened.push(pipe);
    await loadSingleFile(pipe, SINGLE_FILE_CHECKPOINT, { config: SINGLE_FILE_CONFIG_REPO });
    await pipe.loadComponents('controlnet', { repo: CONTROLNET });
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
    const { data, shape } = controlRefs.uint8('text2img.control_image_uint8');
    const inputs = { ...embeds(controlRefs), height: controlRefs.params.height, width: controlRefs.params.width, num_inference_steps: 3 };
    const unet = pipe.unet as UNet2DConditionModel;
    expect(unet.rebuildable).toBe(true);
    const atZero = await finalLatents(pipe, { ...inputs, control_image: { height: shape[0]!, width: shape[1]!, channels: 3, data }, controlnet_conditioning_scale: 0 });
    const controlled = await finalLatents(pipe, { ...inputs, control_image: { height: shape[0]!, width: shape[1]!, channels: 3, data }, controlnet_conditioning_scale: 0.5 });
    expect(unet.acceptsControlNetResiduals).toBe(true);
    expect(relativeError(controlled, atZero)).toBeGreaterThan(0.01);
  });
});
