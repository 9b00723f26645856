import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFamily, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, SDXL_LATENT_RGB_BIAS, rgbToLatentMatrix, type PipelineImage, type Tensor } from '@modular-diffusers/runtime';
import { sdxl, StableDiffusionXLAutoIPAdapterStep, StableDiffusionXLControlNetAutoInput } from '@modular-diffusers/sdxl';
import { blackLeftWhiteRight, RED, solid } from '../test/images.js';
import { recordLoopLatents } from '../test/loop-recorder.js';
import { createTinyRepo, type TinyRepoFixture } from '../test/tiny-repo.js';
import { SDXLDiffDiffControlNetDenoiseLoop } from './denoise-loops.js';
import { DIFFDIFF_BLOCKS } from './presets.js';

// The guide's IP-Adapter and ControlNet sections on the tiny SDXL repo (its controlnet/, unet_controlnet/,
// image_encoder/ and unet_ip_adapter/ exports; runtime/src/tiny-sdxl/README.md).

const SIZE = 64;
const ORANGE = [230, 120, 20] as const;
const TOMATO = [200, 40, 90] as const;
const base = { prompt: 'a green pear', negative_prompt: 'blurry', num_inference_steps: 6, image: solid(SIZE, RED), diffdiff_map: blackLeftWhiteRight(SIZE) };

let repo: TinyRepoFixture;
registerFamily(sdxl);

beforeAll(async () => {
  repo = await createTinyRepo({ controlnet: true, ipAdapter: true });
});
afterAll(() => repo.dispose());

/** Per-channel mean of latents [1, 4, h, w] over latent columns [x0, x1). */
function channelMeans(latents: Tensor<'float32'>, x0: number, x1: number): number[] {
  const [h, w] = latents.shape.slice(2) as [number, number];
  return [0, 1, 2, 3].map((c) => {
    let sum = 0;
    for (let y = 0; y < h; y++) for (let x = x0; x < x1; x++) sum += latents.data[(c * h + y) * w + x]!;
    return sum / (h * (x1 - x0));
  });
}

/** The latent of a flat colour given as RGB in [-1, 1]: P . (rgb - bias), the tiny VAE's encoder map. */
function latentOf(rgb: readonly number[]): number[] {
  const p = rgbToLatentMatrix();
  const centred = rgb.map((v, j) => v - SDXL_LATENT_RGB_BIAS[j]!);
  return [0, 1, 2, 3].map((k) => centred.reduce((sum, v, j) => sum + p[k * 3 + j]! * v, 0));
}

async function savePng(image: PipelineImage, name: string): Promise<string> {
  const path = join(repo.outDir, name);
  await image.save(path);
  expect((await stat(path)).size).toBeGreaterThan(0);
  return path;
}

describe('diff-diff with ControlNet (SDXLDiffDiffControlNetDenoiseLoop)', () => {
  it('runs the ControlNet inside the diff-diff loop, keeps the held region on the original, and writes a PNG', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    ddBlocks.blocks.insert('controlnet_input', new StableDiffusionXLControlNetAutoInput(), 7);
    ddBlocks.blocks.set('denoise', new SDXLDiffDiffControlNetDenoiseLoop());
    const pipe = await repo.pipeline(ddBlocks, { collection: 'diffdiff' });
    // ControlNet residuals need the UNet exported with residual inputs.
    const baseUnet = pipe.unet;
    await pipe.loadComponents('unet', { subfolder: 'unet_controlnet' });
    await baseUnet.release();

    const run = (scale: number) =>
      pipe({ ...base, generator: new Generator(42), control_image: solid(SIZE, TOMATO), controlnet_conditioning_scale: scale, output: ['images', 'latents', 'original_latents'] });
    const recording = recordLoopLatents();
    const controlled = await run(0.5);
    recording.restore();
    const unscaled = await run(0);

    // Held (white) columns 5..7 start every step on the noised original, ControlNet or not.
    const original = controlled.original_latents as Tensor<'float32'>;
    recording.before.forEach((latents, i) => {
      for (let k = 0; k < 4 * 8 * 8; k++) if (k % 8 >= 5) expect(latents.data[k]).toBe(original.data[i * 256 + k]);
    });
    // Every residual of a flat control image is s * L (L its latent), and the UNet's target moves by
    // their mean, in both CFG branches: the result moves by 0.5 * L.
    const shift = channelMeans(controlled.latents, 0, 8).map((m, c) => m - channelMeans(unscaled.latents, 0, 8)[c]!);
    const expected = latentOf(TOMATO.map((v) => Math.fround(Math.fround((2 * v) / 255) - 1))).map((l) => 0.5 * l);
    shift.forEach((s, c) => expect(s).toBeCloseTo(expected[c]!, 4));
    await savePng(controlled.images[0], 'diffdiff-controlnet.png');
  });
});

describe('diff-diff with the IP-Adapter', () => {
  it('loads the adapter through pipeline.loader, pulls the changed region toward the reference colour, and writes a PNG', async () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    const pipe = await repo.pipeline(ddBlocks, { collection: 'diffdiff' });
    const baseUnet = pipe.unet;
    await pipe.loader.loadIpAdapter(repo.dir);
    await baseUnet.release();

    const run = async (scale: number) => {
      pipe.loader.setIpAdapterScale(scale);
      return pipe({ ...base, generator: new Generator(42), ip_adapter_image: solid(SIZE, ORANGE), output: 'images' });
    };
    const [without] = await run(0);
    const [adapted] = await run(0.6);
    const mean = (image: PipelineImage, x0: number, x1: number) =>
      [0, 1, 2].map((c) => {
        let sum = 0;
        for (let y = 0; y < SIZE; y++) for (let x = x0; x < x1; x++) sum += image.data[(y * SIZE + x) * 3 + c]!;
        return sum / (SIZE * (x1 - x0));
      });
    const distance = (a: number[], b: readonly number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));
    // The changed (black) side takes on some of the orange reference, as in the guide's example.
    expect(distance(mean(adapted, 0, 24), ORANGE)).toBeLessThan(distance(mean(without, 0, 24), ORANGE) - 10);
    await savePng(adapted, 'diffdiff-ip-adapter.png');
  });
});
