import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator, SDXL_LATENT_RGB_BIAS, rgbToLatentMatrix, saveImage, type RgbImage, type Tensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { CONTROLNET_TEXT2IMAGE_BLOCKS } from '../auto-presets.js';
import { ControlNetModel, guessModeWeights } from '../components/controlnet.js';
import { ModelCapabilityError } from '../components/model-capability-error.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { SdxlInputError } from '../errors.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { StableDiffusionXLControlNetAutoInput } from './controlnet-auto-input.js';
import { controlnetKeep } from './controlnet-inputs.js';

let repo: TinyRepoFixture;
let plain: any;
let controlled: any;

const COLOUR = [200, 40, 90] as const;
const controlImage = (size = 64): RgbImage => {
  const data = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) data.set(COLOUR, p * 3);
  return { width: size, height: size, channels: 3, data };
};

/**
 * The tiny ControlNet's residuals for a one-colour control image: every
 * residual is s * L with L = P . (2 * colour / 255 - 1 - bias) (runtime
 * tiny-sdxl README), and the controlled UNet's target moves by their mean.
 */
const controlLatent = (): number[] => {
  const p = rgbToLatentMatrix();
  const centred = COLOUR.map((v, j) => Math.fround(Math.fround((2 * v) / 255) - 1) - SDXL_LATENT_RGB_BIAS[j]!);
  return [0, 1, 2, 3].map((k) => centred.reduce((sum, c, j) => sum + p[k * 3 + j]! * c, 0));
};

const base = { prompt: 'a red fox', num_inference_steps: 3, height: 64, width: 64, output_type: 'latent' };
const latentsOf = async (pipe: any, inputs: Record<string, unknown>) =>
  (await pipe({ ...base, generator: new Generator(3), ...inputs, output: 'latents' })) as Tensor<'float32'>;

/** Per-channel mean of latents [1, 4, h, w] minus another's (the final latents are constant per channel). */
const channelShift = (a: Tensor<'float32'>, b: Tensor<'float32'>): number[] => {
  const plane = a.shape[2]! * a.shape[3]!;
  return [0, 1, 2, 3].map((c) => {
    let sum = 0;
    for (let p = 0; p < plane; p++) sum += a.data[c * plane + p]! - b.data[c * plane + p]!;
    return sum / plane;
  });
};

beforeAll(async () => {
  repo = await createTinyRepo({ controlnet: true });
  plain = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
  controlled = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_TEXT2IMAGE_BLOCKS));
  const baseUnet = controlled.unet as UNet2DConditionModel;
  // ControlNet residuals need a UNet exported with residual inputs.
  await controlled.loadComponents('unet', { subfolder: 'unet_controlnet' });
  await baseUnet.release();
});
afterAll(async () => {
  await repo.dispose();
});

describe('controlnet_keep and guess-mode weights', () => {
  it('keeps the steps inside [start, end] of the schedule (diffusers: 1 - (i/n < start or (i+1)/n > end))', () => {
    expect(controlnetKeep(10, 0.2, 0.8)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(controlnetKeep(4, 0, 1)).toEqual([1, 1, 1, 1]);
  });

  it('weights guess-mode residuals as torch.logspace(-1, 0, n + 1)', () => {
    // 10^(-1 + k/3) for k = 0..3, rounded to float32
    expect(guessModeWeights(3)).toEqual([0.1, 0.21544346900318838, 0.46415888336127786, 1].map(Math.fround));
  });
});

describe('ControlNet denoising on the tiny SDXL repo', () => {
  it('with scale 0 gives exactly the plain text2img result', async () => {
    const withoutControlNet = await latentsOf(plain, {});
    const atZero = await latentsOf(controlled, { control_image: controlImage(), controlnet_conditioning_scale: 0 });
    expect(Math.max(...channelShift(atZero, withoutControlNet).map(Math.abs))).toBeLessThan(1e-5);
    expect(atZero.data.every((v, k) => Math.abs(v - withoutControlNet.data[k]!) < 1e-5)).toBe(true);
  });

  it('feeds the residuals to the UNet: the result moves by scale x the control image latent, with CFG', async () => {
    const withoutControlNet = await latentsOf(plain, {});
    const runs = vi.spyOn((controlled.controlnet as ControlNetModel).model, 'run');
    const scale = 0.5;
    const latents = await latentsOf(controlled, { control_image: controlImage(), controlnet_conditioning_scale: scale });
    // Both CFG batches get the residuals: u + sL + g((c + sL) - (u + sL)) = plain + sL.
    const expected = controlLatent().map((l) => scale * l);
    channelShift(latents, withoutControlNet).forEach((shift, c) => expect(shift).toBeCloseTo(expected[c]!, 4));
    // One ControlNet run per step, on the stacked conditional + unconditional batch.
    expect(runs).toHaveBeenCalledTimes(3);
    for (const [feeds] of runs.mock.calls) {
      expect(feeds.controlnet_cond!.shape).toEqual([2, 3, 64, 64]);
      expect(feeds.conditioning_scale!.data[0]).toBe(scale);
    }
    runs.mockRestore();
  });

  it('in guess mode gives the unconditional rows zero residuals and weights the blocks 0.1 ... 1', async () => {
    const withoutControlNet = await latentsOf(plain, {});
    const runs = vi.spyOn((controlled.controlnet as ControlNetModel).model, 'run');
    const latents = await latentsOf(controlled, { control_image: controlImage(), guess_mode: true });
    // u + g((c + mL) - u) = plain + g m L, m = mean of the block weights (3 down blocks + mid).
    const weights = guessModeWeights(3);
    const m = weights.reduce((a, b) => a + b, 0) / weights.length;
    const expected = controlLatent().map((l) => 7.5 * m * l);
    channelShift(latents, withoutControlNet).forEach((shift, c) => expect(shift).toBeCloseTo(expected[c]!, 3));
    for (const [feeds] of runs.mock.calls) expect(feeds.sample!.shape[0]).toBe(1);
    runs.mockRestore();
  });

  it('applies the guidance window as controlnet_keep', async () => {
    const state = await controlled({ ...base, generator: new Generator(3), control_image: controlImage(), control_guidance_start: 0.25, control_guidance_end: 0.7 });
    // 3 steps: step 0 starts before 0.25, step 2 ends after 0.7.
    expect(state.get('controlnet_keep')).toEqual([0, 1, 0]);
    expect(state.get('control_guidance_start')).toEqual([0.25]);
    expect((state.get('controlnet_cond') as Tensor).shape).toEqual([1, 3, 64, 64]);
  });

  it('writes a PNG of a ControlNet text2img run', async () => {
    const [image] = await controlled({ ...base, output_type: 'pil', generator: new Generator(3), control_image: controlImage(), output: 'images' });
    const path = join(repo.outDir, 'controlnet-text2img.png');
    await saveImage(image, path);
    expect((await stat(path)).size).toBeGreaterThan(0);
    expect([image.width, image.height]).toEqual([64, 64]);
  });

  it('rejects a bad guidance window before any model runs', async () => {
    const runs = vi.spyOn((controlled.unet as UNet2DConditionModel).model, 'run');
    await expect(controlled({ ...base, control_image: controlImage(), control_guidance_start: 0.8, control_guidance_end: 0.2 })).rejects.toThrow(SdxlInputError);
    await expect(controlled({ ...base, control_image: 'control.png' })).rejects.toThrow(/control_image/);
    expect(runs).not.toHaveBeenCalled();
    runs.mockRestore();
  });

  it('says which UNet export to load when the UNet takes no residuals', async () => {
    const blocks = SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_TEXT2IMAGE_BLOCKS);
    const pipe = await repo.pipeline(blocks);
    const error = await pipe({ ...base, control_image: controlImage() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCapabilityError);
    expect((error as Error).message).toMatch(/unet_controlnet/);
  });
});

describe('ControlNet-Union input', () => {
  let union: any;

  beforeAll(async () => {
    // A union-typed ControlNet: the tiny export with num_control_type in its config. Its graph takes no
    // control_type input, so it ignores the mode, as diffusers passes only the kwargs `forward` accepts.
    await cp(join(repo.dir, 'controlnet'), join(repo.dir, 'controlnet_union'), { recursive: true });
    const configPath = join(repo.dir, 'controlnet_union', 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    await writeFile(configPath, JSON.stringify({ ...config, _class_name: 'ControlNetUnionModel', num_control_type: 6 }));

    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('controlnet_input', StableDiffusionXLControlNetAutoInput, blocks.indexOf('denoise'));
    blocks.set('denoise', CONTROLNET_TEXT2IMAGE_BLOCKS.get('denoise')!);
    union = SequentialPipelineBlocks.fromBlocksDict(blocks).initPipeline(repo.dir, { repoResolver: repo.resolver, loaderRegistry: repo.registry });
    await union.loadComponents(['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'scheduler', 'vae']);
    union.updateComponents({ unet: controlled.unet });
    await union.loadComponents('controlnet', { subfolder: 'controlnet_union' });
  });
  afterAll(async () => {
    await (union.controlnet as ControlNetModel).release();
  });

  it('turns control_mode into the one-hot control_type the union model takes, and denoises with the control image', async () => {
    const state = await union({ ...base, generator: new Generator(3), control_image: controlImage(), control_mode: 2, num_images_per_prompt: 2 });
    const controlType = state.get('control_type') as Tensor<'float32'>;
    expect(controlType.shape).toEqual([2, 6]);
    expect([...controlType.data]).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(state.get('control_type_idx')).toEqual([2]);
    expect((state.get('controlnet_cond') as Tensor[]).map((t) => t.shape)).toEqual([[2, 3, 64, 64]]);

    const viaUnion = await latentsOf(union, { control_image: controlImage(), control_mode: 2 });
    const viaPlain = await latentsOf(controlled, { control_image: controlImage() });
    expect(viaUnion.data.every((v, k) => Math.abs(v - viaPlain.data[k]!) < 1e-6)).toBe(true);
  });

  it('rejects a mode the model does not know and a mode count that does not match the images', async () => {
    await expect(union({ ...base, control_image: controlImage(), control_mode: 6 })).rejects.toThrow(/out of range/);
    await expect(union({ ...base, control_image: controlImage(), control_mode: [1, 2] })).rejects.toThrow(SdxlInputError);
  });
});

describe('guidance batching with ControlNet', () => {
  it('runs one ControlNet and one UNet call of batch B per step at guidance scale 1', async () => {
    controlled.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 1 }) });
    const controlRuns = vi.spyOn((controlled.controlnet as ControlNetModel).model, 'run');
    const unetRuns = vi.spyOn((controlled.unet as UNet2DConditionModel).model, 'run');
    await latentsOf(controlled, { control_image: controlImage() });
    expect(controlRuns).toHaveBeenCalledTimes(3);
    expect(unetRuns).toHaveBeenCalledTimes(3);
    for (const [feeds] of unetRuns.mock.calls) expect(feeds.down_block_additional_residual_0!.shape).toEqual([1, 4, 8, 8]);
    controlRuns.mockRestore();
    unetRuns.mockRestore();
    controlled.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 7.5 }) });
  });
});
