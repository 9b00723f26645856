/**
 * The shipped SDXL base configs against the copies of stabilityai/stable-diffusion-xl-base-1.0's
 * configs the model builder's tests use (packages/model-builder/fixtures/sdxl-base-configs): every
 * value there is the same here, and the builder accepts each config and names the tensors of the
 * published model (2.6 B UNet parameters, 83.7 M VAE, 123 M and 695 M for the text encoders).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listModelWeights } from '@modular-diffusers/model-builder';
import { SDXL_BASE_CONFIGS } from './sdxl-base-configs.js';

const COPIES = fileURLToPath(new URL('../../../model-builder/fixtures/sdxl-base-configs/', import.meta.url));

const CASES = [
  ['unet', 'UNet2DConditionModel', 2_567_463_684],
  ['vae', 'AutoencoderKL', 83_653_863],
  ['text_encoder', 'CLIPTextModel', 123_060_480],
  ['text_encoder_2', 'CLIPTextModelWithProjection', 694_659_840],
] as const;

describe.each(CASES)('%s', (name, className, parameters) => {
  it('has every value of the Hub copy', async () => {
    const copy = JSON.parse(await readFile(join(COPIES, `${name}.json`), 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(copy)) expect(SDXL_BASE_CONFIGS[name][key], key).toEqual(value);
  });

  it(`builds as ${className} with the published parameter count`, () => {
    const shapes = listModelWeights(className, SDXL_BASE_CONFIGS[name]);
    const total = [...shapes.values()].reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
    expect(total).toBe(parameters);
  });
});
