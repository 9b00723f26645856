/**
 * IP-Adapter from the files h94/IP-Adapter publishes, on the tiny real-architecture SDXL repo:
 * `sdxl_models/ip-adapter_sdxl.safetensors` built into the UNet graph and
 * `sdxl_models/image_encoder/` (CLIPVisionModelWithProjection safetensors) built too, with no
 * export step. Every expected number is diffusers' (tools/reference/adapter-fixtures/ip-adapter:
 * StableDiffusionXLPipeline with the adapter loaded by diffusers' own
 * `unet._load_ip_adapter_weights` and `set_ip_adapter_scale(0.6)`, 4 steps, CFG 5, from the
 * real-arch text2img reference's embeddings and latents). Tolerances are the issue's: latents
 * within 1e-4 of their magnitude, uint8 within 2.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { loadOnnxModel, type RgbImage, type Tensor } from '@modular-diffusers/runtime';
import { buildModel, ipAdapterUNetExtensions } from '@modular-diffusers/model-builder';
import { IP_ADAPTER_BLOCKS } from '../auto-presets.js';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import type { CLIPVisionModelWithProjection } from '../components/image-encoder.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { IpAdapterLoadError } from '../ip-adapter/ip-adapter-load-error.js';
import '../pipeline/sdxl-modular-pipeline.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import { ADAPTER_FIXTURES_DIR, REAL_ARCH_REPO, assembleRepo, loadReferences, optimumLayout, maxAbsDiff, relativeError, type References } from './real-arch-fixture.test-helpers.js';

const FIXTURE = join(ADAPTER_FIXTURES_DIR, 'ip-adapter');
const ADAPTER_REPO = join(FIXTURE, 'repo');
const WEIGHTS = { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' } as const;
const builtGraphs = () => readdir(join(process.env.HF_HOME!, 'modular-diffusers', 'built-graphs')).then((names) => names.filter((n) => !n.startsWith('.')).sort());

let base: References;
let refs: References;
const opened: any[] = [];

async function pipeline(loadOptions: Record<string, unknown> = {}, repo = REAL_ARCH_REPO): Promise<any> {
  const blocks = TEXT2IMAGE_BLOCKS.copy();
  blocks.insert('ip_adapter', IP_ADAPTER_BLOCKS.get('ip_adapter')!, 0);
  const pipe: any = SequentialPipelineBlocks.fromBlocksDict(blocks).initPipeline(repo, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
  await pipe.loadComponents(['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae', 'scheduler'], loadOptions);
  pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: refs.params.guidance_scale }) });
  opened.push(pipe);
  return pipe;
}

const adapterImage = (): RgbImage => {
  const { data, shape } = refs.uint8('ip_adapter_image.uint8');
  return { height: shape[0]!, width: shape[1]!, channels: 3, data };
};

const inputs = (extra: Record<string, unknown> = {}) => ({
  prompt_embeds: base.float('text2img.prompt_embeds'),
  negative_prompt_embeds: base.float('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: base.float('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: base.float('text2img.negative_pooled_prompt_embeds'),
  latents: base.float('text2img.latents'),
  height: refs.params.height,
  width: refs.params.width,
  num_inference_steps: refs.params.num_inference_steps,
  ...extra,
});

const finalLatents = async (pipe: any, extra: Record<string, unknown> = {}) =>
  ((await pipe({ ...inputs(extra), output_type: 'latent' })).get('latents') as Tensor<'float32'>).data;

beforeAll(async () => {
  base = await loadReferences();
  refs = await loadReferences(join(FIXTURE, 'references'));
});
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
});

describe("IP-Adapter from h94/IP-Adapter's safetensors layout", () => {
  let pipe: any;

  beforeAll(async () => {
    pipe = await pipeline();
    await pipe.loader.loadIpAdapter(ADAPTER_REPO, WEIGHTS);
    pipe.loader.setIpAdapterScale(refs.params.scale);
  });

  it('rebuilds the UNet with image_embeds and ip_adapter_scale inputs and builds the image encoder from sdxl_models/image_encoder', () => {
    const unet = pipe.unet as UNet2DConditionModel;
    expect(unet.acceptsImageEmbeds).toBe(true);
    expect(unet.model.input('ip_adapter_scale')?.dims).toEqual([12]);
    expect(unet.model.input('image_embeds')?.dims).toEqual(['batch_size', 'num_images', 24]);
    expect(unet.ipAdapterScale).toBe(0.6);
    expect(pipe.getComponentSpec('image_encoder').subfolder).toBe('sdxl_models/image_encoder');
    expect(pipe.getComponentSpec('unet').subfolder).toBe('unet');
  });

  it("the feature_extractor and the built image encoder give transformers' image_embeds for the adapter image", async () => {
    const pixels = await pipe.feature_extractor.preprocess(adapterImage());
    expect(pixels.shape).toEqual([1, 3, 224, 224]);
    const embeds = await (pipe.image_encoder as CLIPVisionModelWithProjection).encode(pixels);
    expect(embeds.shape).toEqual([1, 24]);
    expect(relativeError(embeds.data, refs.float('image_encoder.image_embeds').data)).toBeLessThan(1e-5);
  });

  it("one UNet call with given image embeddings matches diffusers' UNet with the adapter loaded (scale 0.6)", async () => {
    const unet = pipe.unet as UNet2DConditionModel;
    const out = await unet.predict({
      sample: base.float('unet.sample'),
      timestep: base.params['unet.timestep'],
      encoderHiddenStates: base.float('unet.encoder_hidden_states'),
      textEmbeds: base.float('unet.text_embeds'),
      timeIds: base.float('unet.time_ids'),
      imageEmbeds: refs.float('unet.image_embeds'),
    });
    expect(relativeError(out.data, refs.float('unet.out_sample').data)).toBeLessThan(1e-4);
    // the adapter matters: diffusers' plain UNet gives another answer for the same inputs
    expect(relativeError(out.data, base.float('unet.out_sample').data)).toBeGreaterThan(0.05);
  });

  it('text2img with the adapter image at scale 0.6 matches StableDiffusionXLPipeline: latents within 1e-4, uint8 within 2', async () => {
    const latents = await finalLatents(pipe, { ip_adapter_image: adapterImage() });
    const error = relativeError(latents, refs.float('text2img.final_latents').data);
    console.info(`IP-Adapter text2img: latents relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
    const [image] = (await pipe({ ...inputs({ ip_adapter_image: adapterImage() }), output: 'images' })) as RgbImage[];
    const levels = maxAbsDiff(image!.data, refs.uint8('text2img.image_uint8').data);
    console.info(`IP-Adapter text2img: uint8 max difference ${levels}`);
    expect(levels).toBeLessThanOrEqual(2);
  });

  it("per-block scales (diffusers' set_ip_adapter_scale with a dict, parts left out at 0) match diffusers, without a rebuild", async () => {
    const entries = await builtGraphs();
    pipe.loader.setIpAdapterScale(refs.params.block_scales);
    const unet = pipe.unet as UNet2DConditionModel;
    // 12 cross-attention layers: down_blocks.1 (2 attentions x 2 blocks), up_blocks.0 (3 x 2), mid (1 x 2).
    expect(unet.ipAdapterLayerScales).toEqual([0.3, 0.3, 0.9, 0.9, 0, 0, 1, 1, 0, 0, 0, 0]);
    const latents = await finalLatents(pipe, { ip_adapter_image: adapterImage() });
    expect(relativeError(latents, refs.float('block_scales.text2img.final_latents').data)).toBeLessThan(1e-4);
    expect(relativeError(latents, refs.float('text2img.final_latents').data)).toBeGreaterThan(0.01);
    expect(() => pipe.loader.setIpAdapterScale({ up: { block_1: [1, 1, 1] } })).toThrow(/'up.block_1' is not a block with attentions/);
    expect(() => pipe.loader.setIpAdapterScale({ down: { block_1: [1, 1, 1] } })).toThrow(/expected 2 scales for down.block_1/);
    pipe.loader.setIpAdapterScale([refs.params.scale]);
    expect(unet.ipAdapterLayerScales).toBeNull();
    expect(await builtGraphs()).toEqual(entries);
  });

  it('moves the output measurably; scale 0 and no adapter image give the plain text2img; setIpAdapterScale rebuilds nothing', async () => {
    const entries = await builtGraphs();
    const unet = pipe.unet;
    const adapted = await finalLatents(pipe, { ip_adapter_image: adapterImage() });
    const plain = base.float('text2img.final_latents').data;
    expect(relativeError(adapted, plain)).toBeGreaterThan(0.05);

    pipe.loader.setIpAdapterScale(0);
    const atZero = await finalLatents(pipe, { ip_adapter_image: adapterImage() });
    expect(relativeError(atZero, plain)).toBeLessThan(1e-4);
    pipe.loader.setIpAdapterScale(refs.params.scale);
    expect(relativeError(await finalLatents(pipe), plain)).toBeLessThan(1e-4);
    expect(relativeError(await finalLatents(pipe, { ip_adapter_image: adapterImage() }), adapted)).toBe(0);

    expect(pipe.unet).toBe(unet);
    expect(await builtGraphs()).toEqual(entries);
  });
});

it('a UNet built with ControlNet residual inputs keeps them when the IP-Adapter is built in (zero residuals: the same result)', async () => {
  const pipe = await pipeline({ perComponent: { unet: { controlNetResiduals: true, modelSource: 'safetensors' } } });
  expect(pipe.unet.acceptsControlNetResiduals).toBe(true);
  await pipe.loader.loadIpAdapter(ADAPTER_REPO, WEIGHTS);
  pipe.loader.setIpAdapterScale(refs.params.scale);
  expect(pipe.unet.acceptsControlNetResiduals).toBe(true);
  expect(pipe.unet.acceptsImageEmbeds).toBe(true);
  expect(relativeError(await finalLatents(pipe, { ip_adapter_image: adapterImage() }), refs.float('text2img.final_latents').data)).toBeLessThan(1e-4);
});

it('unloadIpAdapter gives the plain UNet back (the ONNX export, as loadComponents picks it) and drops the image encoder', async () => {
  const pipe = await pipeline();
  await pipe.loader.loadIpAdapter(ADAPTER_REPO, WEIGHTS);
  expect(pipe.image_encoder).toBeTruthy();
  const entries = await builtGraphs();
  await pipe.loader.unloadIpAdapter();
  expect(pipe.unet.acceptsImageEmbeds).toBe(false);
  expect(pipe.image_encoder ?? null).toBeNull();
  expect(await builtGraphs()).toEqual(entries);
  expect(relativeError(await finalLatents(pipe), base.float('text2img.final_latents').data)).toBeLessThan(1e-5);
  await pipe.loader.unloadIpAdapter(); // nothing loaded: nothing to do
});

describe('IP-Adapter Plus (a Resampler over the image encoder\'s penultimate hidden states)', () => {
  let pipe: any;
  const PLUS = { subfolder: 'sdxl_models', weightName: 'ip-adapter-plus_sdxl_vit-h.safetensors', imageEncoderFolder: 'models/image_encoder' } as const;

  beforeAll(async () => {
    pipe = await pipeline();
    // Switching adapters: the plain one first, then Plus with its own encoder (both rebuilt from unet/).
    await pipe.loader.loadIpAdapter(ADAPTER_REPO, WEIGHTS);
    await pipe.loader.loadIpAdapter(ADAPTER_REPO, PLUS);
    pipe.loader.setIpAdapterScale(refs.params.scale);
  });

  it('takes hidden states [N, n, S, D] and the built encoder gives the penultimate one transformers does', async () => {
    const unet = pipe.unet as UNet2DConditionModel;
    expect(unet.ipAdapterImageInput).toBe('hidden_states');
    expect(pipe.getComponentSpec('image_encoder').subfolder).toBe('models/image_encoder');
    expect(unet.model.input('image_embeds')?.dims).toEqual(['batch_size', 'num_images', 'image_tokens', 32]);
    const pixels = await pipe.feature_extractor.preprocess(adapterImage());
    const states = await (pipe.image_encoder as CLIPVisionModelWithProjection).encodePenultimateHiddenState(pixels);
    expect(states.shape).toEqual([1, 50, 32]);
    expect(relativeError(states.data, refs.float('plus.image_encoder.hidden_states_penultimate').data)).toBeLessThan(1e-5);
  });

  it('text2img at scale 0.6 matches StableDiffusionXLPipeline with the Plus adapter: latents within 1e-4, uint8 within 2', async () => {
    const latents = await finalLatents(pipe, { ip_adapter_image: adapterImage() });
    const error = relativeError(latents, refs.float('plus.text2img.final_latents').data);
    console.info(`IP-Adapter Plus text2img: latents relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
    expect(relativeError(latents, base.float('text2img.final_latents').data)).toBeGreaterThan(0.05);
    expect(relativeError(latents, refs.float('text2img.final_latents').data)).toBeGreaterThan(0.05);
    const [image] = (await pipe({ ...inputs({ ip_adapter_image: adapterImage() }), output: 'images' })) as RgbImage[];
    const levels = maxAbsDiff(image!.data, refs.uint8('plus.text2img.image_uint8').data);
    console.info(`IP-Adapter Plus text2img: uint8 max difference ${levels}`);
    expect(levels).toBeLessThanOrEqual(2);
  });
});

describe('IP-Adapter bad input, named before any model runs', () => {
  let pipe: any;
  let temp: string;

  beforeAll(async () => {
    pipe = await pipeline();
    temp = await mkdtemp(join(tmpdir(), 'ip-adapter-bad-'));
  });
  afterAll(() => rm(temp, { recursive: true, force: true }));

  /** Nothing was loaded or run: the pipeline keeps its own UNet (the ONNX export) and has no image encoder. */
  const untouched = async (attempt: Promise<unknown>) => {
    const unet = pipe.unet as UNet2DConditionModel;
    const runs = vi.spyOn(unet.model, 'run');
    const loads = vi.spyOn(pipe, 'loadComponents');
    const error = await attempt.catch((e: unknown) => e);
    expect(loads).not.toHaveBeenCalled();
    expect(runs).not.toHaveBeenCalled();
    expect(pipe.unet).toBe(unet);
    expect(unet.acceptsImageEmbeds).toBe(false);
    loads.mockRestore();
    runs.mockRestore();
    expect(error).toBeInstanceOf(IpAdapterLoadError);
    return error as IpAdapterLoadError;
  };

  it('refuses .bin (pickle) weights, naming the safetensors file to use', async () => {
    const error = await untouched(pipe.loader.loadIpAdapter(ADAPTER_REPO, { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.bin' }));
    expect(error.message).toMatch(/pickle/);
    expect(error.message).toContain("weightName: 'ip-adapter_sdxl.safetensors'");
  });

  it('refuses an image encoder whose projection_dim is not what the adapter projects from', async () => {
    const error = await untouched(pipe.loader.loadIpAdapter(ADAPTER_REPO, { ...WEIGHTS, imageEncoderFolder: 'models/image_encoder' }));
    expect(error.key).toBe('projection_dim');
    expect(error.file).toBe(join(ADAPTER_REPO, 'models', 'image_encoder', 'config.json'));
    expect(error.message).toMatch(/projection_dim 20.*size 24/);
  });

  it('refuses an adapter with a missing key, naming the file and the key', async () => {
    const folder = join(temp, 'missing', 'sdxl_models');
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'ip-adapter_sdxl.safetensors');
    await renameTensor(join(ADAPTER_REPO, 'sdxl_models', 'ip-adapter_sdxl.safetensors'), file, 'ip_adapter.23.to_v_ip.weight', 'ip_adapter.25.to_v_ip.weight');
    const error = await untouched(pipe.loader.loadIpAdapter(join(temp, 'missing'), WEIGHTS));
    expect(error.file).toBe(file);
    expect(error.key).toBe('ip_adapter.23.to_v_ip.weight');
    expect(error.message).toMatch(/12 cross-attention layers/);
  });

  it('refuses to build into a UNet that is only an ONNX export (a pure Optimum folder), saying what to load', async () => {
    const optimum = await assembleRepo(await optimumLayout());
    try {
      const onnxOnly = await pipeline({}, optimum.dir);
      const unet = onnxOnly.unet as UNet2DConditionModel;
      const error = await onnxOnly.loader.loadIpAdapter(ADAPTER_REPO, WEIGHTS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IpAdapterLoadError);
      expect(error.key).toBe('unet');
      expect(error.message).toMatch(/no diffusers weights .* an ONNX export cannot take new layers/);
      expect(onnxOnly.unet).toBe(unet);
    } finally {
      await optimum.dispose();
    }
  });

  it('refuses an adapter made for another UNet (cross_attention_dim), naming image_proj.proj.weight', async () => {
    const unetConfig = JSON.parse(await readFile(join(REAL_ARCH_REPO, 'unet', 'config.json'), 'utf8'));
    const file = join(ADAPTER_REPO, 'sdxl_models', 'ip-adapter_sdxl.safetensors');
    await expect(ipAdapterUNetExtensions(file, { ...unetConfig, cross_attention_dim: 2048 }, 'unet/config.json')).rejects.toMatchObject({
      key: 'image_proj.proj.weight',
      message: expect.stringMatching(/cross_attention_dim 64.*cross_attention_dim 2048/),
    });
  });
});

describe('the IP-Adapter UNet graph alone', () => {
  it('builds from unet/ plus the adapter file and records both in the cache key (another adapter file, another entry)', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'ip-adapter-cache-'));
    try {
      const folder = join(REAL_ARCH_REPO, 'unet');
      const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
      const file = join(ADAPTER_REPO, 'sdxl_models', 'ip-adapter_sdxl.safetensors');
      const adapter = await ipAdapterUNetExtensions(file, config, join(folder, 'config.json'));
      expect(adapter.attentionLayers.slice(0, 5)).toEqual([
        'down_blocks.1.attentions.0.transformer_blocks.0.attn2',
        'down_blocks.1.attentions.0.transformer_blocks.1.attn2',
        'down_blocks.1.attentions.1.transformer_blocks.0.attn2',
        'down_blocks.1.attentions.1.transformer_blocks.1.attn2',
        'up_blocks.0.attentions.0.transformer_blocks.0.attn2',
      ]);
      expect(adapter.attentionLayers.at(-1)).toBe('mid_block.attentions.0.transformer_blocks.1.attn2');
      const options = { folder, cacheDir, unet: adapter.unet, extensionId: adapter.extensionId, extraWeightFiles: adapter.extraWeightFiles };
      const built = await buildModel(options);
      expect(built.weightFiles).toContain(file);
      // Two folders: both files are hard-linked beside the graph (the UNet is not copied) and read in place there.
      expect(built.placement).toBe('linked');
      const linked = (await readdir(built.cacheEntry)).filter((name) => name.startsWith('linked-')).sort();
      expect(linked).toEqual(['linked-0-diffusion_pytorch_model.safetensors', 'linked-1-ip-adapter_sdxl.safetensors']);
      const [entryStat, fileStat] = [await stat(join(built.cacheEntry, linked[1]!)), await stat(file)];
      if (entryStat.dev === fileStat.dev) expect(entryStat.ino).toBe(fileStat.ino); // across file systems it is a copy
      expect((await buildModel(options)).fromCache).toBe(true);
      const copy = join(cacheDir, 'copy.safetensors');
      await copyFile(file, copy);
      const other = await ipAdapterUNetExtensions(copy, config, join(folder, 'config.json'));
      expect((await buildModel({ ...options, unet: other.unet, extraWeightFiles: other.extraWeightFiles })).cacheEntry).not.toBe(built.cacheEntry);
      const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
      expect(model.inputs.map((i) => i.name)).toEqual(expect.arrayContaining(['image_embeds', 'ip_adapter_scale']));
      await model.release();
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});

/** A copy of a safetensors file with one tensor renamed (same bytes, header re-sorted as the format keeps it). */
async function renameTensor(source: string, target: string, from: string, to: string): Promise<void> {
  const bytes = await readFile(source);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  header[to] = header[from];
  delete header[from];
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await writeFile(target, Buffer.concat([prefix, Buffer.from(text), bytes.subarray(8 + length)]));
}


