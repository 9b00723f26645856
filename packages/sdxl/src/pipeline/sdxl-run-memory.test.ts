import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_RUN_MEMORY, PipelineState, RunTooLargeError, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, OnnxModel } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { estimateSdxlRunMemory } from './sdxl-run-memory.js';

let repo: TinyRepoFixture;
let pipe: any;

beforeAll(async () => {
  repo = await createTinyRepo();
  pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
});
afterAll(() => repo.dispose());
afterEach(() => vi.restoreAllMocks());

const base = { prompt: 'a red apple', num_inference_steps: 2, generator: new Generator(0) };

describe('SDXL runs are bounded before anything is allocated', () => {
  it('estimates from the formula in sdxl-run-memory.ts (worked value for real SDXL channels)', () => {
    // Without components the SDXL defaults apply: f = 8, C_latent 4, C_unet0 320, C_vae0 128.
    const none = { componentNames: [], getComponent: () => null } as never;
    const state = new PipelineState({ values: { prompt: ['a', 'b'], num_images_per_prompt: 2, height: 1024, width: 512 } });
    const estimate = estimateSdxlRunMemory(none, state);
    const B = 4;
    const pixels = 1024 * 512;
    const latentPixels = 128 * 64;
    expect(estimate.parts).toEqual([
      { what: 'VAE decoder activations', bytes: 3 * B * 128 * pixels * 4 },
      { what: 'UNet activations', bytes: 4 * 2 * B * 320 * latentPixels * 4 },
      { what: 'decoded images', bytes: B * 3 * pixels * 9 },
      { what: 'latents', bytes: 8 * B * 4 * latentPixels * 4 },
    ]);
    expect(estimate.bytes).toBe(3 * B * 128 * pixels * 4 + 4 * 2 * B * 320 * latentPixels * 4 + B * 3 * pixels * 9 + 8 * B * 4 * latentPixels * 4);
    expect(estimate.shape).toBe('4 images of 512x1024');
  });

  it('refuses run({ height: 100000, width: 100000 }) at once, with the sizes and the override, before any model runs', async () => {
    const run = vi.spyOn(OnnxModel.prototype, 'run');
    const error = await pipe({ ...base, height: 100000, width: 100000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunTooLargeError);
    expect(error.message).toMatch(/^This run needs about [\d.]+ TiB of memory \(VAE decoder activations [\d.]+ TiB, UNet activations/);
    expect(error.message).toContain('for 1 image of 100000x100000, over the 16.00 GiB limit; nothing was allocated.');
    expect(error.message).toMatch(/run\(inputs, \{ maxMemory: '\d+GB' \}\)/);
    expect(error.message).toMatch(/--max-memory \d+GB/);
    expect(error.limit).toBe(DEFAULT_MAX_RUN_MEMORY);
    expect(run).not.toHaveBeenCalled();
  });

  it('maxMemory per run or per pipeline overrides the limit both ways', async () => {
    const run = vi.spyOn(OnnxModel.prototype, 'run');
    await expect(pipe({ ...base, height: 64, width: 64 }, { maxMemory: 1000 })).rejects.toThrow(/over the 1000 B limit/);
    await expect(pipe({ ...base, height: 64, width: 64 }, { maxMemory: 'lots' })).rejects.toThrow(/maxMemory: Cannot read the size 'lots'/);
    expect(run).not.toHaveBeenCalled();
    const images = await pipe({ ...base, height: 64, width: 64, output: 'images' }, { maxMemory: '1GB' });
    expect(images).toHaveLength(1);
    expect(run).toHaveBeenCalled();
  });
});
