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
