/** listModelWeights names exactly the tensors diffusers saved for the fixture configs, with their shapes. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { listModelWeights } from './list-model-weights.js';
import { readSafetensorsHeader } from './safetensors/safetensors-file.js';
import { fixture } from './testing/reference.js';

describe('listModelWeights', () => {
  it.each([
    ['unet-sdxl', 'UNet2DConditionModel', 'diffusion_pytorch_model.safetensors'],
    ['vae', 'AutoencoderKL', 'diffusion_pytorch_model.safetensors'],
    ['clip-text-projection', 'CLIPTextModelWithProjection', 'model.safetensors'],
  ])('%s: the keys and shapes of the saved state dict', async (name, className, file) => {
    const config = JSON.parse(await readFile(fixture(name, 'config.json'), 'utf8')) as Record<string, unknown>;
    const header = await readSafetensorsHeader(fixture(name, file));
    const saved = new Map([...header.tensors].map(([key, info]) => [key, info.shape]));
    expect(new Map(listModelWeights(className, config))).toEqual(saved);
  });

  it('lists the extra inputs of nothing: ControlNet residuals need no weights', async () => {
    const config = JSON.parse(await readFile(fixture('unet-sdxl', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(listModelWeights('UNet2DConditionModel', config, { unet: { controlNetResiduals: true } }).size).toBe(listModelWeights('UNet2DConditionModel', config).size);
  });
});

describe('the full-size SDXL base configs (stabilityai/stable-diffusion-xl-base-1.0, fixtures/sdxl-base-configs)', () => {
  // Parameter counts torch reports for that checkpoint's modules: sum(p.numel() for p in model.parameters()).
  it.each([
    ['unet.json', 'UNet2DConditionModel', 2_567_463_684],
    ['vae.json', 'AutoencoderKL', 83_653_863],
    ['text_encoder.json', 'CLIPTextModel', 123_060_480],
    ['text_encoder_2.json', 'CLIPTextModelWithProjection', 694_659_840],
  ])('%s parses and needs exactly the checkpoint\'s %s parameters', async (file, className, count) => {
    const config = JSON.parse(await readFile(fixture('sdxl-base-configs', file), 'utf8')) as Record<string, unknown>;
    let total = 0;
    for (const shape of listModelWeights(className, config).values()) total += shape.reduce((a, b) => a * b, 1);
    expect(total).toBe(count);
  });
});
