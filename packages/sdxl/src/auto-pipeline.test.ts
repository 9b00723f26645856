import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, saveImage, type RgbImage, type Tensor } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from './testing/tiny-repo.js';
import { CONTROLNET_IMAGE2IMAGE_BLOCKS, CONTROLNET_INPAINT_BLOCKS, StableDiffusionXLAutoBlocks } from './auto-presets.js';
import type { ControlNetModel } from './components/controlnet.js';
import type { CLIPVisionModelWithProjection } from './components/image-encoder.js';
import type { UNet2DConditionModel } from './components/unet.js';
import { StableDiffusionXLModularPipeline } from './pipeline/sdxl-modular-pipeline.js';

let repo: TinyRepoFixture;

/** 64x64 test pictures: a diagonal gradient, a flat control colour, and a mask whose right half is white. */
const picture = (fill: (x: number, y: number) => readonly number[], channels: 1 | 3 = 3): RgbImage => {
  const data = new Uint8Array(64 * 64 * channels);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.set(fill(x, y), (y * 64 + x) * channels);
  return { width: 64, height: 64, channels, data };
};
const gradient = picture((x, y) => [x * 4, y * 4, 128]);
const control = picture(() => [20, 200, 60]);
const rightHalf = picture((x) => [x >= 32 ? 255 : 0], 1);

const base = { prompt: 'a green pear', negative_prompt: 'blurry', num_inference_steps: 4, height: 64, width: 64 };

const runToPng = async (pipe: any, name: string, inputs: Record<string, unknown>) => {
  const [image] = await pipe({ ...base, generator: new Generator(42), ...inputs, output: 'images' });
  const path = join(repo.outDir, `${name}.png`);
  await saveImage(image, path);
  expect((await stat(path)).size).toBeGreaterThan(0);
  expect([image.width, image.height]).toEqual([64, 64]);
  return image as RgbImage;
};

beforeAll(async () => {
  repo = await createTinyRepo({ controlnet: true, ipAdapter: true });
});
afterAll(async () => {
  await repo.dispose();
});

describe('StableDiffusionXLAutoBlocks end to end', () => {
  let auto: any;
  beforeAll(async () => {
    auto = await repo.pipeline(new StableDiffusionXLAutoBlocks());
  });

  it('is an SDXL pipeline that picks text2img, img2img and inpainting from its inputs', async () => {
    expect(auto).toBeInstanceOf(StableDiffusionXLModularPipeline);
    const runs = vi.spyOn((auto.unet as UNet2DConditionModel).model, 'run');
    await runToPng(auto, 'auto-text2img', {});
    expect(runs).toHaveBeenCalledTimes(4);
    runs.mockClear();
    // img2img at strength 0.5 of 4 steps denoises the last 2.
    await runToPng(auto, 'auto-img2img', { image: gradient, strength: 0.5 });
    expect(runs).toHaveBeenCalledTimes(2);
    runs.mockClear();
    await runToPng(auto, 'auto-inpaint', { image: gradient, mask_image: rightHalf, strength: 0.75 });
    expect(runs).toHaveBeenCalledTimes(3);
    runs.mockRestore();
  });

  // diffusers tests/modular_pipelines/test_conditional_pipeline_blocks.py::TestConditionalBlocksBranchDefaults::
  // test_branch_resolves_own_default, on the SDXL auto blocks: the branch that runs applies its own default.
  it('runs img2img at its own default strength 0.3 when prompt + image are given without strength (diffusers TestConditionalBlocksBranchDefaults)', async () => {
    const runs = vi.spyOn((auto.unet as UNet2DConditionModel).model, 'run');
    const state = await auto({ ...base, num_inference_steps: 10, image: gradient, generator: new Generator(42) });
    // int(10 * 0.3) = 3 denoising steps (0.9999 would run int(10 * 0.9999) = 9).
    expect(runs).toHaveBeenCalledTimes(3);
    expect(state.get('strength')).toBe(0.3);
    runs.mockRestore();
    // diffusers' StableDiffusionXLAutoBlocks().doc at 58eb52c renders this line (its branches agree on 0.3).
    expect(auto.blocks.doc.split(/\s+/).join(' ')).toContain('strength (`Any`, *optional*, defaults to 0.3):');
  });

  it("runs text2img with fewer steps than img2img's default strength could use, since no image is given", async () => {
    // 2 steps x the img2img default strength 0.3 would leave no step; that check belongs to image runs only.
    const runs = vi.spyOn((auto.unet as UNet2DConditionModel).model, 'run');
    await runToPng(auto, 'auto-text2img-2-steps', { num_inference_steps: 2 });
    expect(runs).toHaveBeenCalledTimes(2);
    runs.mockRestore();
  });

  it('runs the ControlNet branch for a control image once the ControlNet UNet export is loaded', async () => {
    const pipe = await repo.pipeline(new StableDiffusionXLAutoBlocks());
    await pipe.loadComponents('unet', { subfolder: 'unet_controlnet' });
    const runs = vi.spyOn((pipe.controlnet as ControlNetModel).model, 'run');
    await runToPng(pipe, 'auto-controlnet', { control_image: control, controlnet_conditioning_scale: 0.8 });
    expect(runs).toHaveBeenCalledTimes(4);
    runs.mockRestore();
  });

  it('runs the IP-Adapter branch for an ip_adapter_image, after pipeline.loader.loadIpAdapter', async () => {
    const pipe = await repo.pipeline(new StableDiffusionXLAutoBlocks());
    await pipe.loader.loadIpAdapter(repo.dir);
    pipe.loader.setIpAdapterScale(0.6);
    const runs = vi.spyOn((pipe.image_encoder as CLIPVisionModelWithProjection).model, 'run');
    await runToPng(pipe, 'auto-ip-adapter', { ip_adapter_image: control });
    expect(runs).toHaveBeenCalledTimes(1);
    runs.mockRestore();
  });
});

describe('ControlNet presets end to end', () => {
  it('CONTROLNET_IMAGE2IMAGE_BLOCKS runs and writes a PNG', async () => {
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_IMAGE2IMAGE_BLOCKS));
    await pipe.loadComponents('unet', { subfolder: 'unet_controlnet' });
    await runToPng(pipe, 'controlnet-img2img', { image: gradient, control_image: control, strength: 0.5 });
  });

  it('CONTROLNET_INPAINT_BLOCKS keeps the unmasked latents at the original image latents and writes a PNG', async () => {
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_INPAINT_BLOCKS));
    await pipe.loadComponents('unet', { subfolder: 'unet_controlnet' });
    const out = await pipe({
      ...base,
      generator: new Generator(42),
      image: gradient,
      mask_image: rightHalf,
      control_image: control,
      strength: 0.75,
      output_type: 'latent',
      output: ['latents', 'image_latents', 'mask'],
    });
    const latents = out.latents as Tensor<'float32'>;
    const original = out.image_latents as Tensor<'float32'>;
    const mask = out.mask as Tensor<'float32'>;
    // After the last step a 4-channel inpainting loop sets (1 - mask) * image_latents + mask * latents.
    const plane = 8 * 8;
    let kept = 0;
    let changed = 0;
    for (let c = 0; c < 4; c++) {
      for (let p = 0; p < plane; p++) {
        const m = mask.data[p]!;
        const k = c * plane + p;
        if (m === 0) {
          expect(latents.data[k]).toBe(original.data[k]);
          kept++;
        } else if (Math.abs(latents.data[k]! - original.data[k]!) > 1e-3) changed++;
      }
    }
    expect(kept).toBe(4 * 32);
    expect(changed).toBeGreaterThan(0);
    await runToPng(pipe, 'controlnet-inpaint', { image: gradient, mask_image: rightHalf, control_image: control, strength: 0.75 });
  });
});
