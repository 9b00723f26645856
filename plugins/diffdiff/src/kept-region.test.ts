import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, type RgbImage } from '@modular-diffusers/runtime';
import { DIFFDIFF_BLOCKS } from './presets.js';
import { blackLeftWhiteRight, RED, solid } from '../test/images.js';
import { createTinyRepo, type TinyRepoFixture } from '../test/tiny-repo.js';

// With `unetPriorStd` the tiny UNet is the exact denoiser for latents drawn from N(prompt colour, s^2):
// it keeps what is nearly clean, as a real model does. So the final image itself shows differential
// diffusion: the region the change map holds to the end keeps the input picture, the rest is repainted.
let repo: TinyRepoFixture;
beforeAll(async () => {
  repo = await createTinyRepo({ unetPriorStd: 0.5 });
});
afterAll(async () => {
  await repo.dispose();
});

function meanColour(image: RgbImage, fromX: number, toX: number): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = fromX; x < toX; x++) {
      for (let c = 0; c < 3; c++) sum[c]! += image.data[(y * image.width + x) * 3 + c]!;
      n += 1;
    }
  }
  return sum.map((s) => s / n);
}

describe('the decoded image of a diff-diff run', () => {
  it('keeps the input where the change map is white and repaints it where it is black', async () => {
    const size = 128;
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS));
    const [out] = (await pipe.run({
      prompt: 'a green pear',
      negative_prompt: 'blurry',
      num_inference_steps: 25,
      image: solid(size, RED),
      diffdiff_map: blackLeftWhiteRight(size),
      generator: new Generator(0),
      output: 'images',
    })) as RgbImage[];
    // Away from the soft edge the latent-size resize makes (two latent columns either side).
    const kept = meanColour(out, size / 2 + 24, size);
    const repainted = meanColour(out, 0, size / 2 - 24);
    // The held half: the last step starts from the original noised to sigma ≈ 0.03, and the
    // prior (s = 0.5) keeps 99.6% of it, so the decoded colour is the input red within a few levels.
    kept.forEach((v, c) => expect(Math.abs(v - RED[c]!)).toBeLessThan(6));
    // The released half is denoised from the first step toward the prompt's colour: far from red.
    const distance = Math.hypot(...repainted.map((v, c) => v - RED[c]!));
    expect(distance).toBeGreaterThan(60);
  });
});
