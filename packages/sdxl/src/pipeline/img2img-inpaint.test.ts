import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, OnnxModel, div, type PipelineImage } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { SdxlInputError } from '../errors.js';
import { IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from '../presets.js';
import { BLUE, RED, halves, pixel, rightHalfMask } from './image-fixtures.test-helpers.js';

let repo: TinyRepoFixture;
let img2img: any;
let inpaint: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  img2img = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS));
  inpaint = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(INPAINT_BLOCKS));
});
afterAll(() => repo.dispose());
afterEach(() => vi.restoreAllMocks());

const base = { prompt: 'a green pear', height: 64, width: 64, generator: new Generator(42) };

describe('IMAGE2IMAGE_BLOCKS on the tiny SDXL repo', () => {
  it('runs 30% of the steps at strength 0.3 and writes a PNG', async () => {
    const state = await img2img({ ...base, image: halves(64), strength: 0.3, num_inference_steps: 10 });
    // 10 steps, leading spacing with steps_offset 1: 901, 801, ..., 1; strength 0.3 keeps the last int(10 * 0.3) = 3.
    expect(Array.from(state.get('timesteps').data)).toEqual([201, 101, 1]);
    expect(state.get('num_inference_steps')).toBe(3);
    expect(Array.from(state.get('latent_timestep').data)).toEqual([201]);
    expect(state.get('image_latents').shape).toEqual([1, 4, 8, 8]);
    const image: PipelineImage = state.get('images')[0];
    const path = join(repo.outDir, 'img2img.png');
    await image.save(path);
    expect((await stat(path)).size).toBeGreaterThan(0);
  });

  it('scales the encoded image by the VAE scaling_factor', async () => {
    // The tiny VAE decodes an 8x8-block-constant image back exactly, so decoding image_latents / 0.13025
    // (vae/config.json's scaling_factor) must give the red left half back.
    const latents = await img2img({ ...base, image: halves(64), strength: 1, num_inference_steps: 1, output: 'image_latents' });
    const decoded = await img2img.vae.decode(div(latents, 0.13025));
    const rgb = [0, 1, 2].map((c) => Math.round(((decoded.data[c * 64 * 64] + 1) / 2) * 255));
    expect(rgb).toEqual([...RED]);
  });

  it('runs the steps after denoising_start and stops at denoising_end', async () => {
    const state = await img2img({ ...base, image: halves(64), num_inference_steps: 10, denoising_start: 0.5, denoising_end: 0.8, output_type: 'latent' });
    // Cutoffs int(round(1000 - 0.5 * 1000)) = 500 (keep t < 500) and 200 (keep t >= 200): 401, 301, 201.
    expect(Array.from(state.get('timesteps').data)).toEqual([401, 301, 201]);
  });
});

describe('INPAINT_BLOCKS on the tiny SDXL repo', () => {
  it('repaints the masked half, keeps the rest, and writes a PNG', async () => {
    const state = await inpaint({ ...base, image: halves(64), mask_image: rightHalfMask(64), strength: 1, num_inference_steps: 3 });
    expect(state.get('mask').shape).toEqual([1, 1, 8, 8]);
    expect(state.get('masked_image_latents')).toBeNull(); // a 4-channel UNet takes no masked-image latents
    expect(state.get('noise').shape).toEqual([1, 4, 8, 8]);
    const image: PipelineImage = state.get('images')[0];
    const path = join(repo.outDir, 'inpaint.png');
    await image.save(path);
    expect((await stat(path)).size).toBeGreaterThan(0);
    // The last step blends the clean image latents back where the mask is 0, and the tiny VAE round-trips
    // 8x8-block-constant images exactly, so the kept half is the original colour (to uint8 rounding).
    for (const [a, b] of pixel(image, 5, 5).map((v, i) => [v, RED[i]!])) expect(Math.abs(a! - b!)).toBeLessThanOrEqual(1);
    expect(pixel(image, 60, 5)).not.toEqual([...BLUE]);
    expect(pixel(image, 60, 5)).toEqual(pixel(image, 40, 50)); // the repainted half is the flat prompt colour
  });
});

describe('bad inputs fail before any model runs', () => {
  const expectNoRun = async (pipe: any, inputs: Record<string, unknown>, message: RegExp) => {
    const run = vi.spyOn(OnnxModel.prototype, 'run');
    await expect(pipe({ ...base, num_inference_steps: 2, ...inputs })).rejects.toThrow(SdxlInputError);
    await expect(pipe({ ...base, num_inference_steps: 2, ...inputs })).rejects.toThrow(message);
    expect(run).not.toHaveBeenCalled();
  };

  it('rejects an image of the wrong type', async () => {
    await expectNoRun(img2img, { image: 'photo.png' }, /`image` must be an RgbImage.*loadImage\(\)/);
    await expectNoRun(inpaint, { image: halves(64), mask_image: [1, 2, 3] }, /`mask_image` must be an RgbImage/);
  });

  it('rejects a mask whose size differs from the image', async () => {
    await expectNoRun(inpaint, { image: halves(64), mask_image: rightHalfMask(32) }, /`mask_image` is 32x32 but `image` is 64x64/);
  });

  it('rejects strength outside (0, 1]', async () => {
    for (const strength of [0, -0.5, 1.5]) await expectNoRun(img2img, { image: halves(64), strength }, /`strength` must be in \(0, 1\]/);
    await expectNoRun(inpaint, { image: halves(64), mask_image: rightHalfMask(64), strength: 2 }, /`strength` must be in \(0, 1\]/);
    await expectNoRun(img2img, { image: halves(64), strength: 0.3, num_inference_steps: 3 }, /leaves no denoising step/);
  });

  it('says what is wrong with a zero size and a step count given as a string (issue 15)', async () => {
    const text2img = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
    await expectNoRun(text2img, { height: 0 }, /^`height` must be a whole number of pixels above 0 \(a multiple of 8\), got 0\.$/);
    await expectNoRun(text2img, { height: 60 }, /`height` and `width` have to be divisible by 8 but height is 60/);
    await expectNoRun(
      text2img,
      { num_inference_steps: '4' },
      /^`num_inference_steps` must be a positive integer, got the string '4' \(pass the number 4, not a string\)\.$/,
    );
  });

  it('rejects a prompt list whose length differs from the negative prompts', async () => {
    await expectNoRun(img2img, { image: halves(64), prompt: ['a', 'b'], negative_prompt: ['x'] }, /`negative_prompt` has 1 prompt\(s\) but `prompt` has 2/);
  });
});
