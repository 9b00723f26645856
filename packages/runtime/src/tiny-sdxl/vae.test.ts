import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { SDXL_LATENT_RGB_BIAS, SDXL_LATENT_RGB_FACTORS, SDXL_SCALING_FACTOR } from './latent-rgb.js';
import { ModelScratch } from './test-models.js';
import { buildTinyVaeDecoder, buildTinyVaeEncoder, TINY_VAE_LOGVAR } from './vae.js';

const scratch = new ModelScratch();
afterAll(() => scratch.dispose());

function pixel(t: Tensor, channel: number, y: number, x: number): number {
  const [, , h, w] = t.shape;
  return t.data[(channel * h + y) * w + x] as number;
}

describe('tiny VAE', () => {
  it('decodes with the SDXL latent-preview factors and upsamples x8', async () => {
    const decoder = await scratch.load('vae_decoder', buildTinyVaeDecoder());
    // Latent channel 0 = 1 / 0.13025 at (0, 0) -> scaled latent e0 -> RGB = factors row 0 + bias; zeros elsewhere -> bias.
    const latent = Tensor.zeros('float32', [1, 4, 2, 2]);
    latent.data[0] = 1 / SDXL_SCALING_FACTOR;
    const { sample } = await decoder.run({ latent_sample: latent });
    expect(sample.shape).toEqual([1, 3, 16, 16]);
    for (let c = 0; c < 3; c++) {
      const lit = SDXL_LATENT_RGB_FACTORS[0][c] + SDXL_LATENT_RGB_BIAS[c]; // R: 0.3651 + 0.1084 = 0.4735
      expect(pixel(sample, c, 0, 0)).toBeCloseTo(lit, 6);
      expect(pixel(sample, c, 7, 7)).toBeCloseTo(lit, 6); // same 8x8 block
      expect(pixel(sample, c, 8, 8)).toBeCloseTo(SDXL_LATENT_RGB_BIAS[c], 6);
    }
  });

  it('encode -> decode returns an image that is constant on 8x8 blocks', async () => {
    const encoder = await scratch.load('vae_encoder', buildTinyVaeEncoder());
    const decoder = await scratch.load('vae_decoder_rt', buildTinyVaeDecoder());
    const colours = [[0.9, -0.2, 0.1], [-0.5, 0.5, 0.3], [0, 0, 0], [1, 1, -1]];
    const image = Tensor.zeros('float32', [1, 3, 16, 16]);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++)
        for (let c = 0; c < 3; c++) image.data[(c * 16 + y) * 16 + x] = colours[(y >> 3) * 2 + (x >> 3)][c];
    const { latent_sample } = await encoder.run({ sample: image });
    expect(latent_sample.shape).toEqual([1, 4, 2, 2]);
    const { sample } = await decoder.run({ latent_sample });
    for (let i = 0; i < image.size; i++) expect(sample.data[i]).toBeCloseTo(image.data[i] as number, 5);
  });

  it("can emit latent_parameters: the latent, then a log-variance of -30", async () => {
    const plain = await scratch.load('vae_encoder_plain', buildTinyVaeEncoder());
    const params = await scratch.load('vae_encoder_params', buildTinyVaeEncoder({ output: 'latent_parameters' }));
    expect(params.outputNames).toEqual(['latent_parameters']);
    const image = Tensor.float32(Array.from({ length: 3 * 8 * 16 }, (_, i) => Math.sin(i)), [1, 3, 8, 16]);
    const { latent_sample } = await plain.run({ sample: image });
    const { latent_parameters } = await params.run({ sample: image });
    expect(latent_parameters.shape).toEqual([1, 8, 1, 2]);
    expect([...latent_parameters.data.slice(0, 8)]).toEqual([...latent_sample.data]);
    expect([...latent_parameters.data.slice(8)]).toEqual(new Array(8).fill(TINY_VAE_LOGVAR));
  });
});
