import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../onnx/onnx-model.js';
import { Tensor } from '../tensor/tensor.js';
import { buildTinyControlNet } from './controlnet.js';
import { buildTinyImageEncoder, CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from './image-encoder.js';
import { rgbToLatentMatrix, SDXL_LATENT_RGB_BIAS } from './latent-rgb.js';
import { sdxlSigmaTable } from './sdxl-sigmas.js';
import { SeededRandom } from './seeded-random.js';
import { ModelScratch } from './test-models.js';
import { buildTinyUnet, tinyUnetWeights, UNET_TARGET_SCALE, UNET_TIME_ID_SCALE } from './unet.js';

const scratch = new ModelScratch();
const unetRng = () => new SeededRandom(0).fork('unet');
let unet: OnnxModel;
let unetFp16: OnnxModel;
let unetControl: OnnxModel;
let unetIp: OnnxModel;

beforeAll(async () => {
  unet = await scratch.load('unet', buildTinyUnet(unetRng()));
  unetFp16 = await scratch.load('unet_fp16', buildTinyUnet(unetRng(), { precision: 'float16' }));
  unetControl = await scratch.load('unet_controlnet', buildTinyUnet(unetRng(), { variant: 'controlnet' }));
  unetIp = await scratch.load('unet_ip_adapter', buildTinyUnet(unetRng(), { variant: 'ip_adapter' }));
});
afterAll(() => scratch.dispose());

const H = 4;
const W = 4;
const fill = (shape: number[], value: number) => Tensor.float32(new Float32Array(shape.reduce((a, b) => a * b)).fill(value), shape);
const random = (shape: number[], seed: number) => Tensor.float32(new SeededRandom(seed).normal(shape.reduce((a, b) => a * b)), shape);

interface Conditioning {
  encoder_hidden_states: Tensor;
  text_embeds: Tensor;
  time_ids: Tensor;
}
const zeroConditioning = (batch = 1): Conditioning => ({
  encoder_hidden_states: fill([batch, 77, 2048], 0),
  text_embeds: fill([batch, 1280], 0),
  time_ids: fill([batch, 6], 0),
});
const promptConditioning = (seed: number): Conditioning => ({
  encoder_hidden_states: random([1, 77, 2048], seed),
  text_embeds: random([1, 1280], seed + 1),
  time_ids: Tensor.float32([1024, 1024, 0, 0, 1024, 1024], [1, 6]),
});

/** The UNet's target colour recomputed in plain JS from the documented formula and the same seeded weights. */
function expectedColour(cond: Conditioning): number[] {
  const w = tinyUnetWeights(unetRng());
  const normalised = (v: ArrayLike<number>) => {
    const norm = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) + 1e-6);
    return Array.from(v, (x) => x / norm);
  };
  const contextMean = new Array(2048).fill(0);
  for (let s = 0; s < 77; s++) for (let d = 0; d < 2048; d++) contextMean[d] += (cond.encoder_hidden_states.data[s * 2048 + d] as number) / 77;
  const text = normalised(cond.text_embeds.data as Float32Array);
  const context = normalised(contextMean);
  return [0, 1, 2, 3].map((k) => {
    let pre = 0;
    for (let d = 0; d < 1280; d++) pre += text[d] * w.text[d * 4 + k];
    for (let d = 0; d < 2048; d++) pre += context[d] * w.context[d * 4 + k];
    for (let d = 0; d < 6; d++) pre += ((cond.time_ids.data[d] as number) / UNET_TIME_ID_SCALE) * w.timeIds[d * 4 + k];
    return UNET_TARGET_SCALE * Math.tanh(pre);
  });
}

/** SDXL sigmas from the scaled_linear formula in float64, independent of sdxl-sigmas.ts. */
function sigma(t: number): number {
  const start = Math.sqrt(0.00085);
  const end = Math.sqrt(0.012);
  let acp = 1;
  for (let i = 0; i <= t; i++) acp *= 1 - (start + ((end - start) * i) / 999) ** 2;
  return Math.sqrt((1 - acp) / acp);
}

describe('tiny UNet: an analytic denoiser', () => {
  it('at t = 999 with zero conditioning and sample = 1 predicts eps = sqrt(sigma^2 + 1) / sigma = 1.0023382', async () => {
    // sigma_999 = 14.6146412 (SDXL's max sigma); target c = 1.5·tanh(0) = 0; x = 1·sqrt(sigma^2 + 1).
    expect(sigma(999)).toBeCloseTo(14.6146412, 6);
    const { out_sample } = await unet.run({ sample: fill([1, 4, H, W], 1), timestep: Tensor.float32([999]), ...zeroConditioning() });
    for (const v of out_sample.data) expect(v).toBeCloseTo(1.0023382247, 6);
  });

  it('between integer timesteps interpolates log-sigma: t = 500.5 gives sigma = sqrt(sigma_500 · sigma_501) = 1.6209832', async () => {
    const s = Math.sqrt(sigma(500) * sigma(501));
    expect(s).toBeCloseTo(1.6209832, 6);
    const { out_sample } = await unet.run({ sample: fill([1, 4, H, W], 1), timestep: Tensor.float32([500.5]), ...zeroConditioning() });
    expect(out_sample.data[0]).toBeCloseTo(Math.sqrt(s * s + 1) / s, 5);
  });

  it('with priorStd s denoises toward N(c, s^2): eps = (x - c)·sigma/(sigma^2 + s^2), so near-clean input is kept', async () => {
    // Worked value at t = 500 with zero conditioning (c = 0), sample = 1, s = 0.5:
    // x = sqrt(sigma^2 + 1), eps = x·sigma/(sigma^2 + 0.25); the implied x0 = x - sigma·eps = x·0.25/(sigma^2 + 0.25).
    const prior = await scratch.load('unet_prior', buildTinyUnet(unetRng(), { priorStd: 0.5 }));
    const s500 = sigma(500);
    const x = Math.sqrt(s500 * s500 + 1);
    const { out_sample } = await prior.run({ sample: fill([1, 4, H, W], 1), timestep: Tensor.float32([500]), ...zeroConditioning() });
    for (const v of out_sample.data) expect(v).toBeCloseTo((x * s500) / (s500 * s500 + 0.25), 5);
    // At the smallest sigma (t = 1, sigma ≈ 0.0413) the x0 it implies keeps 99% of the input.
    const s1 = sigma(1);
    const { out_sample: late } = await prior.run({ sample: fill([1, 4, H, W], 1), timestep: Tensor.float32([1]), ...zeroConditioning() });
    const x1 = Math.sqrt(s1 * s1 + 1);
    expect((x1 - s1 * (late.data[0] as number)) / x1).toBeGreaterThan(0.99);
    expect(() => buildTinyUnet(unetRng(), { priorStd: -1 })).toThrow(/priorStd/);
  });

  it('predicts eps = (x - c) / sigma with c from the prompt embeddings', async () => {
    const cond = promptConditioning(7);
    const c = expectedColour(cond);
    const sample = random([1, 4, H, W], 3);
    const s = sigma(301);
    const { out_sample } = await unet.run({ sample, timestep: Tensor.float32([301]), ...cond });
    for (let k = 0; k < 4; k++)
      for (let p = 0; p < H * W; p++) {
        const i = k * H * W + p;
        const x = (sample.data[i] as number) * Math.sqrt(s * s + 1);
        expect(out_sample.data[i]).toBeCloseTo((x - c[k]) / s, 4);
      }
    // Different prompts pull toward different colours.
    const other = expectedColour(promptConditioning(11));
    expect(Math.max(...c.map((v, k) => Math.abs(v - other[k])))).toBeGreaterThan(0.1);
  });

  it('Euler sampling (10 leading steps) lands on the prompt colour, and CFG extrapolates from the unconditional one', async () => {
    const timesteps = Array.from({ length: 10 }, (_, i) => 901 - 100 * i); // leading spacing, steps_offset 1
    const sigmas = [...timesteps.map((t) => sdxlSigmaTable()[t]), 0];
    const cond = promptConditioning(5);
    const uncond = zeroConditioning();
    uncond.time_ids = cond.time_ids; // SDXL repeats time_ids for the negative branch
    const guidance = 5;
    let x = Float32Array.from(random([1, 4, H, W], 9).data as Float32Array, (v) => v * sigmas[0]);
    for (let i = 0; i < timesteps.length; i++) {
      const scale = Math.sqrt(sigmas[i] ** 2 + 1);
      const sample = Tensor.float32(Float32Array.from(x, (v) => v / scale), [1, 4, H, W]);
      const timestep = Tensor.float32([timesteps[i]]);
      const epsC = (await unet.run({ sample, timestep, ...cond })).out_sample.data as Float32Array;
      const epsU = (await unet.run({ sample, timestep, ...uncond })).out_sample.data as Float32Array;
      x = x.map((v, j) => v + (sigmas[i + 1] - sigmas[i]) * (epsU[j] + guidance * (epsC[j] - epsU[j])));
    }
    const cC = expectedColour(cond);
    const cU = expectedColour(uncond);
    for (let k = 0; k < 4; k++) expect(x[k * H * W]).toBeCloseTo(cU[k] + guidance * (cC[k] - cU[k]), 3);
  });

  it('the fp16 export takes float32 callers and agrees with fp32 to half precision', async () => {
    const feeds = { sample: random([1, 4, H, W], 4), timestep: Tensor.float32([601]), ...promptConditioning(2) };
    const full = (await unet.run(feeds)).out_sample;
    const half = (await unetFp16.run(feeds)).out_sample;
    expect(unetFp16.inputs[0].dtype).toBe('float16');
    expect(half.dtype).toBe('float32');
    full.data.forEach((v, i) => expect(Math.abs((half.data[i] as number) - (v as number))).toBeLessThan(2e-2 * (1 + Math.abs(v as number))));
  });
});

describe('tiny ControlNet + unet_controlnet', () => {
  it('hands down the control image latent, and residuals shift the UNet target by their mean', async () => {
    const controlnet = await scratch.load('controlnet', buildTinyControlNet());
    const s = 0.8;
    // A pure red control image in [0, 1] -> RGB (1, -1, -1) -> layout L = P·((1, -1, -1) - bias), times s.
    const image = Tensor.zeros('float32', [1, 3, 8 * H, 8 * W]);
    image.data.fill(1, 0, 64 * H * W);
    const base = { sample: fill([1, 4, H, W], 0.5), timestep: Tensor.float32([401]), ...promptConditioning(1) };
    const res = await controlnet.run({ ...base, controlnet_cond: image, conditioning_scale: Tensor.float32([s]) });
    expect(res.down_block_res_samples_1.shape).toEqual([1, 4, H / 2, W / 2]);
    expect(res.mid_block_res_sample.shape).toEqual([1, 4, H / 4, W / 4]);
    const p = rgbToLatentMatrix();
    const rgb = [1, -1, -1].map((v, c) => v - SDXL_LATENT_RGB_BIAS[c]);
    const layout = [0, 1, 2, 3].map((k) => s * (p[k * 3] * rgb[0] + p[k * 3 + 1] * rgb[1] + p[k * 3 + 2] * rgb[2]));
    for (const out of Object.values(res)) {
      const perChannel = out.size / 4;
      for (let k = 0; k < 4; k++) expect(out.data[k * perChannel]).toBeCloseTo(layout[k], 5);
    }

    const plain = (await unet.run(base)).out_sample;
    const zeros = await unetControl.run({
      ...base,
      down_block_additional_residual_0: fill([1, 4, H, W], 0),
      down_block_additional_residual_1: fill([1, 4, H / 2, W / 2], 0),
      down_block_additional_residual_2: fill([1, 4, H / 4, W / 4], 0),
      mid_block_additional_residual: fill([1, 4, H / 4, W / 4], 0),
    });
    expect([...zeros.out_sample.data]).toEqual([...plain.data]);
    const shifted = await unetControl.run({
      ...base,
      down_block_additional_residual_0: res.down_block_res_samples_0,
      down_block_additional_residual_1: res.down_block_res_samples_1,
      down_block_additional_residual_2: res.down_block_res_samples_2,
      mid_block_additional_residual: res.mid_block_res_sample,
    });
    // Uniform residuals all equal L: target += L, so eps -= L / sigma_401.
    const s401 = sigma(401);
    for (let k = 0; k < 4; k++) {
      const i = k * H * W + 5;
      expect(shifted.out_sample.data[i]).toBeCloseTo((plain.data[i] as number) - layout[k] / s401, 4);
    }
  });
});

describe('tiny image encoder + unet_ip_adapter', () => {
  it('encodes the mean colour into image_embeds[0..2] and pulls the target toward it by ip_adapter_scale', async () => {
    const encoder = await scratch.load('image_encoder', buildTinyImageEncoder(new SeededRandom(0).fork('image_encoder')));
    // A uniform orange image (1, 0.5, 0) normalised with CLIP's mean/std.
    const rgb01 = [1, 0.5, 0];
    const pixels = Tensor.zeros('float32', [1, 3, 224, 224]);
    for (let c = 0; c < 3; c++) pixels.data.fill((rgb01[c] - CLIP_IMAGE_MEAN[c]) / CLIP_IMAGE_STD[c], c * 224 * 224, (c + 1) * 224 * 224);
    const { image_embeds, last_hidden_state } = await encoder.run({ pixel_values: pixels });
    expect(last_hidden_state.shape).toEqual([1, 257, 1280]);
    // 4 digits: the float32 mean over 224·224 pixels accumulates ~1e-5 of rounding.
    [1, 0, -1].forEach((v, c) => expect(image_embeds.data[c]).toBeCloseTo(v, 4));

    const base = { sample: random([1, 4, H, W], 8), timestep: Tensor.float32([201]), ...promptConditioning(3) };
    const embeds = image_embeds.reshape([1, 1, 1024]);
    const plain = (await unet.run(base)).out_sample;
    const off = (await unetIp.run({ ...base, image_embeds: embeds, ip_adapter_scale: Tensor.float32([0]) })).out_sample;
    expect([...off.data]).toEqual([...plain.data]);

    const full = (await unetIp.run({ ...base, image_embeds: embeds, ip_adapter_scale: Tensor.float32([1]) })).out_sample;
    const p = rgbToLatentMatrix();
    // The target is the latent of the colour in the embedding: P·(image_embeds[0..2] - bias).
    const centred = [0, 1, 2].map((c) => (image_embeds.data[c] as number) - SDXL_LATENT_RGB_BIAS[c]);
    const imageColour = [0, 1, 2, 3].map((k) => p[k * 3] * centred[0] + p[k * 3 + 1] * centred[1] + p[k * 3 + 2] * centred[2]);
    const s201 = sigma(201);
    for (let k = 0; k < 4; k++) {
      const i = k * H * W;
      const x = (base.sample.data[i] as number) * Math.sqrt(s201 * s201 + 1);
      expect(full.data[i]).toBeCloseTo((x - imageColour[k]) / s201, 4);
    }
  });
});
