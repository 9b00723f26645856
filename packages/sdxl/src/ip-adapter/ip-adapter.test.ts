import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator, SDXL_LATENT_RGB_BIAS, rgbToLatentMatrix, saveImage, type RgbImage, type Tensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { IP_ADAPTER_BLOCKS } from '../auto-presets.js';
import type { CLIPVisionModelWithProjection } from '../components/image-encoder.js';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { SdxlInputError } from '../errors.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { CLIP_MEAN, CLIP_STD, CLIPImageProcessor } from './clip-image-processor.js';
import { loadIpAdapter, setIpAdapterScale } from './load-ip-adapter.js';

const ORANGE = [230, 120, 20] as const;
const solid = (width: number, height: number, colour: readonly number[]): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(colour, p * 3);
  return { width, height, channels: 3, data };
};

/** CLIP normalisation of one 8-bit value: (v / 255 - mean) / std in float32 steps. */
const clipValue = (v: number, c: number) => Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(CLIP_MEAN[c]!)) / Math.fround(CLIP_STD[c]!));

describe('CLIPImageProcessor (the IP-Adapter feature_extractor)', () => {
  const processor = CLIPImageProcessor.fromConfig({ size: 224, crop_size: 224 });

  it('resizes the shortest edge to 224 and normalises with CLIP mean/std', async () => {
    const pixels = await processor.preprocess(solid(300, 200, ORANGE));
    expect(pixels.shape).toEqual([1, 3, 224, 224]);
    const plane = 224 * 224;
    for (let c = 0; c < 3; c++) {
      const expected = clipValue(ORANGE[c]!, c);
      expect(pixels.data[c * plane]).toBeCloseTo(expected, 6);
      expect(pixels.data[c * plane + plane - 1]).toBeCloseTo(expected, 6);
    }
  });

  it('takes the centre square', async () => {
    // 448x224: already 224 high, so no resize; the centre crop is x = 112..335, the green middle half.
    const image = solid(448, 224, [255, 0, 0]);
    for (let y = 0; y < 224; y++) for (let x = 112; x < 336; x++) image.data.set([0, 255, 0], (y * 448 + x) * 3);
    const pixels = await processor.preprocess(image);
    const plane = 224 * 224;
    const greens = [0, 1, 2].map((c) => clipValue([0, 255, 0][c]!, c));
    for (const p of [0, 223, plane - 224, plane - 1]) for (let c = 0; c < 3; c++) expect(pixels.data[c * plane + p]).toBe(greens[c]);
  });

  it('rejects what is not an image', async () => {
    await expect(processor.preprocess('photo.png' as never)).rejects.toThrow(InvalidArgumentError);
  });
});

describe('IP-Adapter on the tiny SDXL repo', () => {
  let repo: TinyRepoFixture;
  let plain: any;
  let adapted: any;

  /** The tiny IP-Adapter UNet's colour for an adapter image: P . (mean RGB in [-1, 1] - bias) (runtime tiny-sdxl README). */
  const imageLatent = (rgb: readonly number[]): number[] => {
    const p = rgbToLatentMatrix();
    const centred = rgb.map((v, j) => v - SDXL_LATENT_RGB_BIAS[j]!);
    return [0, 1, 2, 3].map((k) => centred.reduce((sum, x, j) => sum + p[k * 3 + j]! * x, 0));
  };
  const orangeLatent = () => imageLatent(ORANGE.map((v) => (2 * v) / 255 - 1));

  const base = { prompt: 'a green pear', num_inference_steps: 3, height: 64, width: 64, output_type: 'latent' };
  const latentsOf = async (pipe: any, inputs: Record<string, unknown> = {}) =>
    (await pipe({ ...base, generator: new Generator(5), ...inputs, output: 'latents' })) as Tensor<'float32'>;
  const channelMeans = (t: Tensor<'float32'>) => {
    const plane = t.shape[2]! * t.shape[3]!;
    return [0, 1, 2, 3].map((c) => t.data.subarray(c * plane, (c + 1) * plane).reduce((a, b) => a + b, 0) / plane);
  };
  const guidance = (scale: number) => {
    const guider = new ClassifierFreeGuidance({ guidance_scale: scale });
    plain.updateComponents({ guider });
    adapted.updateComponents({ guider });
  };

  beforeAll(async () => {
    repo = await createTinyRepo({ ipAdapter: true });
    plain = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('ip_adapter', IP_ADAPTER_BLOCKS.get('ip_adapter')!, 0);
    adapted = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(blocks));
  });
  afterAll(async () => {
    await repo.dispose();
  });

  it('needs the IP-Adapter UNet: says to call loadIpAdapter, before running the image encoder', async () => {
    const encoderRuns = vi.spyOn((adapted.image_encoder as CLIPVisionModelWithProjection).model, 'run');
    const error = await adapted({ ...base, ip_adapter_image: solid(64, 64, ORANGE) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCapabilityError);
    expect((error as Error).message).toMatch(/loadIpAdapter/);
    expect(encoderRuns).not.toHaveBeenCalled();
    encoderRuns.mockRestore();
  });

  it('loadIpAdapter swaps in unet_ip_adapter/ and image_encoder/, recorded in the specs', async () => {
    const baseUnet = adapted.unet as UNet2DConditionModel;
    await expect(loadIpAdapter(adapted, repo.dir, { weightName: 'ip-adapter_sdxl.bin' })).rejects.toThrow(/pickle.*'ip-adapter_sdxl.safetensors'/);
    await expect(loadIpAdapter(adapted, repo.dir, { weightName: 'ip-adapter_sdxl.pkl' })).rejects.toThrow(/neither IP-Adapter safetensors/);
    await loadIpAdapter(adapted, repo.dir);
    await baseUnet.release();
    const unet = adapted.unet as UNet2DConditionModel;
    expect(unet.acceptsImageEmbeds).toBe(true);
    expect(unet.ipAdapterScale).toBe(1);
    expect(adapted.getComponentSpec('unet').subfolder).toBe('unet_ip_adapter');
    expect(adapted.getComponentSpec('image_encoder').subfolder).toBe('image_encoder');
    expect(() => setIpAdapterScale(adapted, [0.5, 0.5])).toThrow(InvalidArgumentError);
    expect(() => setIpAdapterScale(plain, 0.5)).toThrow(ModelCapabilityError);
  });

  it('scale 0 gives exactly the result without an adapter', async () => {
    guidance(7.5);
    setIpAdapterScale(adapted, 0);
    const without = await latentsOf(plain);
    const atZero = await latentsOf(adapted, { ip_adapter_image: solid(64, 64, ORANGE) });
    expect(atZero.data.every((v, k) => Math.abs(v - without.data[k]!) < 1e-5)).toBe(true);
  });

  it('without an ip_adapter_image the IP-Adapter UNet predicts what the plain UNet does', async () => {
    setIpAdapterScale(adapted, 1);
    const without = await latentsOf(plain);
    const skipped = await latentsOf(adapted);
    expect(skipped.data.every((v, k) => Math.abs(v - without.data[k]!) < 1e-5)).toBe(true);
  });

  it('scale 1 paints the adapter image colour: the embeddings reach the UNet (guidance 1)', async () => {
    guidance(1);
    setIpAdapterScale(adapted, 1);
    const runs = vi.spyOn((adapted.unet as UNet2DConditionModel).model, 'run');
    const latents = await latentsOf(adapted, { ip_adapter_image: solid(64, 64, ORANGE) });
    // The target becomes c + 1 * (c_img - c) = c_img, whatever the prompt.
    channelMeans(latents).forEach((m, c) => expect(m).toBeCloseTo(orangeLatent()[c]!, 3));
    for (const [feeds] of runs.mock.calls) {
      expect(feeds.image_embeds!.shape).toEqual([1, 1, 1024]);
      expect(feeds.ip_adapter_scale!.data[0]).toBe(1);
    }
    runs.mockRestore();

    setIpAdapterScale(adapted, 0.5);
    const without = channelMeans(await latentsOf(plain));
    const half = channelMeans(await latentsOf(adapted, { ip_adapter_image: solid(64, 64, ORANGE) }));
    half.forEach((m, c) => expect(m).toBeCloseTo(without[c]! + 0.5 * (orangeLatent()[c]! - without[c]!), 3));
  });

  it('gives the unconditional batch zero image embeddings under CFG, in the same UNet run', async () => {
    guidance(3);
    setIpAdapterScale(adapted, 1);
    const runs = vi.spyOn((adapted.unet as UNet2DConditionModel).model, 'run');
    const latents = await latentsOf(adapted, { ip_adapter_image: solid(64, 64, ORANGE) });
    // cond -> c_img(orange), uncond -> c_img(zero embedding) = P . (0 - bias); CFG: u + 3 (c - u).
    const zero = imageLatent([0, 0, 0]);
    const orange = orangeLatent();
    channelMeans(latents).forEach((m, c) => expect(m).toBeCloseTo(zero[c]! + 3 * (orange[c]! - zero[c]!), 2));
    expect(runs).toHaveBeenCalledTimes(3);
    const embeds = runs.mock.calls[0]![0].image_embeds as Tensor<'float32'>;
    expect(embeds.shape).toEqual([2, 1, 1024]);
    expect(embeds.data.subarray(1024).every((v) => v === 0)).toBe(true);
    runs.mockRestore();
  });

  it('rejects an ip_adapter_image that is not an image before any model runs', async () => {
    const runs = vi.spyOn((adapted.unet as UNet2DConditionModel).model, 'run');
    await expect(adapted({ ...base, ip_adapter_image: 'orange.png' })).rejects.toThrow(SdxlInputError);
    await expect(adapted({ ...base, ip_adapter_image: [solid(8, 8, ORANGE), solid(8, 8, ORANGE)] })).rejects.toThrow(/one adapter/);
    expect(runs).not.toHaveBeenCalled();
    runs.mockRestore();
  });

  it('writes a PNG of an IP-Adapter text2img run', async () => {
    guidance(5);
    setIpAdapterScale(adapted, 0.6);
    const [image] = await adapted({ ...base, output_type: 'pil', generator: new Generator(5), ip_adapter_image: solid(96, 64, ORANGE), output: 'images' });
    const path = join(repo.outDir, 'ip-adapter-text2img.png');
    await saveImage(image, path);
    expect((await stat(path)).size).toBeGreaterThan(0);
  });
});
