import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator, PipelineImage, Tensor, select } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { StableDiffusionXLModularPipeline } from './sdxl-modular-pipeline.js';

let repo: TinyRepoFixture;
let pipe: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
});
afterAll(() => repo.dispose());

const run = (inputs: Record<string, unknown>) =>
  pipe({ prompt: 'a red apple', height: 64, width: 64, num_inference_steps: 3, generator: new Generator(0), ...inputs });

describe('TEXT2IMAGE_BLOCKS on the tiny SDXL repo', () => {
  it('builds the SDXL pipeline class with values from the loaded configs', () => {
    expect(pipe).toBeInstanceOf(StableDiffusionXLModularPipeline);
    expect(pipe.vaeScaleFactor).toBe(8); // 2 ** (4 VAE blocks - 1)
    expect(pipe.numChannelsLatents).toBe(4);
    expect(pipe.numChannelsUnet).toBe(4);
    expect(pipe.defaultHeight).toBe(1024); // unet sample_size 128 x 8
    expect(pipe.config.force_zeros_for_empty_prompt).toBe(true); // from model_index.json
    expect(pipe.guider).toBeInstanceOf(ClassifierFreeGuidance);
  });

  it('runs end to end and writes a PNG', async () => {
    const state = await run({});
    const images: PipelineImage[] = state.get('images');
    expect(images).toHaveLength(1);
    expect(images[0]).toBeInstanceOf(PipelineImage);
    expect([images[0]!.width, images[0]!.height]).toEqual([64, 64]);
    const path = join(repo.outDir, 'text2img.png');
    await images[0]!.save(path);
    expect((await stat(path)).size).toBeGreaterThan(0);

    // Shapes and dtypes through the run.
    expect(state.get('prompt_embeds').shape).toEqual([1, 77, 2048]); // 768 + 1280 hidden states
    expect(state.get('pooled_prompt_embeds').shape).toEqual([1, 1280]);
    expect(state.get('negative_prompt_embeds').shape).toEqual([1, 77, 2048]);
    expect(state.get('batch_size')).toBe(1);
    expect(state.get('dtype')).toBe('float32');
    expect(state.get('timesteps').data).toEqual(Float32Array.from([667, 334, 1])); // leading spacing, steps_offset 1
    // add_time_ids = original (64, 64) + crop (0, 0) + target (64, 64).
    expect(Array.from(state.get('add_time_ids').data)).toEqual([64, 64, 0, 0, 64, 64]);
    const latents: Tensor<'float32'> = state.get('latents');
    expect(latents.shape).toEqual([1, 4, 8, 8]);
    expect(latents.dtype).toBe('float32');
  });

  it('zeroes the negative embeddings for an empty negative prompt (force_zeros_for_empty_prompt)', async () => {
    const state = await run({ num_inference_steps: 1 });
    expect(state.get('negative_prompt_embeds').data.every((v: number) => v === 0)).toBe(true);
    expect(state.get('negative_pooled_prompt_embeds').data.every((v: number) => v === 0)).toBe(true);
    const withNegative = await run({ num_inference_steps: 1, negative_prompt: 'blurry' });
    expect(withNegative.get('negative_prompt_embeds').data.some((v: number) => v !== 0)).toBe(true);
  });

  it('feeds the UNet [prompt; zeros] without copying them every step: the zeros sit right after the prompt in one buffer', async () => {
    const unetRun = vi.spyOn(pipe.unet.model, 'run');
    try {
      const state = await run({ num_inference_steps: 3 });
      const cond: Tensor<'float32'> = state.get('prompt_embeds');
      const uncond: Tensor<'float32'> = state.get('negative_prompt_embeds');
      expect(uncond.data.buffer).toBe(cond.data.buffer);
      expect(uncond.data.byteOffset).toBe(cond.data.byteOffset + cond.data.byteLength);
      expect(unetRun).toHaveBeenCalledTimes(3);
      const fed = unetRun.mock.calls.map(([feeds]: any) => feeds.encoder_hidden_states as Tensor<'float32'>);
      for (const hidden of fed) {
        expect(hidden.shape).toEqual([2, 77, 2048]);
        expect(hidden.data.buffer).toBe(cond.data.buffer); // a view over both halves, not a copy
        expect(Array.from(hidden.data.subarray(0, cond.size))).toEqual(Array.from(cond.data));
        expect(hidden.data.subarray(cond.size).every((v) => v === 0)).toBe(true);
      }
    } finally {
      unetRun.mockRestore();
    }
  });

  it('keeps caller-given prompt embeddings as they are and still zeroes the negatives', async () => {
    const first = await run({ num_inference_steps: 1 });
    const given: Tensor<'float32'> = first.get('prompt_embeds');
    const copy = new Tensor('float32', given.data.slice(), given.shape);
    const pooled = new Tensor('float32', (first.get('pooled_prompt_embeds') as Tensor<'float32'>).data.slice(), [1, 1280]);
    const state = await run({ prompt: undefined, prompt_embeds: copy, pooled_prompt_embeds: pooled, num_inference_steps: 2 });
    expect(state.get('prompt_embeds')).toBe(copy);
    expect(state.get('negative_prompt_embeds').data.every((v: number) => v === 0)).toBe(true);
  });

  it("scales the caller's latents by init_noise_sigma into a new tensor, leaving the caller's as given", async () => {
    const given = new Tensor('float32', Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i)), [1, 4, 8, 8]);
    const before = given.data.slice();
    const withGiven = await run({ latents: given, num_inference_steps: 2, output: 'latents' });
    expect(given.data).toEqual(before);
    // Drawn noise is scaled in place; the same noise passed in gives the same result.
    const drawn = await run({ num_inference_steps: 2, output: 'latents' });
    const noise = new Generator(0).randn([1, 4, 8, 8]);
    const again = await run({ latents: noise, num_inference_steps: 2, output: 'latents' });
    expect(Array.from(again.data)).toEqual(Array.from(drawn.data));
    expect(Array.from(withGiven.data)).not.toEqual(Array.from(drawn.data));
  });

  it('ends on a flat image whose colour follows the prompt (the tiny UNet pulls latents to a prompt colour)', async () => {
    const colour = async (prompt: string) => {
      const latents: Tensor<'float32'> = await run({ prompt, output: 'latents' });
      const first = select(select(latents, 0), 0);
      expect(Math.max(...first.data) - Math.min(...first.data)).toBeLessThan(1e-4);
      return Array.from({ length: 4 }, (_, c) => select(select(latents, 0), c).data[0]!);
    };
    const red = await colour('a red apple');
    const blue = await colour('a blue sky');
    expect(red).not.toEqual(blue);
  });

  it('expands the batch to prompts x num_images_per_prompt, each prompt repeated in place', async () => {
    const state = await run({ prompt: ['a red apple', 'a blue sky'], num_images_per_prompt: 2, num_inference_steps: 1, generator: undefined, output_type: 'np' });
    const embeds: Tensor<'float32'> = state.get('prompt_embeds');
    expect(embeds.shape).toEqual([4, 77, 2048]);
    // Token 2 (BOS is the same for every prompt, so compare a later position).
    const row = (i: number) => Array.from(select(embeds, i).data.subarray(2 * 2048, 2 * 2048 + 16));
    expect(row(0)).toEqual(row(1));
    expect(row(2)).toEqual(row(3));
    expect(row(0)).not.toEqual(row(2));
    expect(state.get('batch_size')).toBe(2);
    expect(state.get('pooled_prompt_embeds').shape).toEqual([4, 1280]);
    expect(state.get('add_time_ids').shape).toEqual([4, 6]);
    expect(state.get('latents').shape).toEqual([4, 4, 8, 8]);
    const images: Tensor[] = state.get('images');
    expect(images).toHaveLength(4);
    expect(images[0]!.shape).toEqual([64, 64, 3]); // 'np': HWC floats in [0, 1]
  });

  it('leaves the negative embeddings out when guidance is off', async () => {
    const guided = pipe.guider;
    pipe.updateComponents({ guider: guided.new({ guidance_scale: 1 }) });
    try {
      const state = await run({ num_inference_steps: 1, output_type: 'latent' });
      expect(state.get('negative_prompt_embeds')).toBeNull();
      expect(state.get('images')[0].shape).toEqual([4, 8, 8]);
    } finally {
      pipe.updateComponents({ guider: guided });
    }
  });
});
