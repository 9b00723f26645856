import { describe, expect, it } from 'vitest';
import { expectAllClose, referenceAlphasCumprod, referenceSigmas } from '../../test/support/float64-reference.js';
import { buildNoiseSchedule, trainingSigmas } from './noise-schedule.js';

const SDXL = { numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' as const };

describe('noise schedule', () => {
  it('matches the float64 scaled_linear formula to float32 precision', () => {
    const { alphasCumprod } = buildNoiseSchedule(SDXL);
    expectAllClose(alphasCumprod, referenceAlphasCumprod(), { rtol: 2e-6 });
    // worked by hand: beta_0 = 0.00085, so alpha_bar_0 = 0.99915
    expect(alphasCumprod[0]).toBe(Math.fround(0.99915));
  });

  it('gives the float32 sigmas diffusers publishes for SD/SDXL', () => {
    const sigmas = trainingSigmas(buildNoiseSchedule(SDXL).alphasCumprod);
    // diffusers' float32 EulerDiscreteScheduler: sigma_max 14.614647, sigma_min 0.029167533
    // (float64 gives 14.6146412 and 0.0291671582, which k-diffusion/ComfyUI publish).
    expect(sigmas[999]).toBeCloseTo(14.614647, 5);
    expect(sigmas[0]).toBeCloseTo(0.029167533, 8);
    // worked by hand: sqrt(0.00085 / 0.99915) = 0.0291675...
    expect(sigmas[0]).toBeCloseTo(Math.sqrt(0.00085 / 0.99915), 6);
    // float32 rounds alpha_bar before 1 - alpha_bar cancels: near t = 0 that costs up to ~4e-5
    // relative against float64 (diffusers carries the same error; the values above are its own).
    expectAllClose(sigmas, referenceSigmas(), { rtol: 5e-5 });
    expectAllClose(sigmas.subarray(100), referenceSigmas().slice(100), { rtol: 5e-6 });
  });

  it('linear betas follow beta_start + t/(T-1) (beta_end - beta_start)', () => {
    const { alphasCumprod } = buildNoiseSchedule({ ...SDXL, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 });
    expectAllClose(alphasCumprod, referenceAlphasCumprod(0.0001, 0.02, 1000, 'linear'), { rtol: 1e-5 });
  });

  it('zero terminal SNR keeps the first alpha_bar and pins the last at 2^-24', () => {
    const plain = buildNoiseSchedule(SDXL).alphasCumprod;
    const rescaled = buildNoiseSchedule({ ...SDXL, rescaleBetasZeroSnr: true }).alphasCumprod;
    expect(rescaled[0]).toBeCloseTo(plain[0], 6);
    expect(rescaled[999]).toBe(2 ** -24);
    // Algorithm 1: sqrt(alpha_bar) is shifted and scaled linearly, so mid values shrink.
    const s0 = Math.sqrt(plain[0]);
    const sT = Math.sqrt(plain[999]);
    const expected = ((Math.sqrt(plain[500]) - sT) * (s0 / (s0 - sT))) ** 2;
    expect(rescaled[500]).toBeCloseTo(expected, 5);
  });

  it('trained_betas bypass the schedule', () => {
    const { alphasCumprod } = buildNoiseSchedule({ ...SDXL, numTrainTimesteps: 3, trainedBetas: [0.1, 0.2, 0.5] });
    expectAllClose(alphasCumprod, [0.9, 0.72, 0.36], { rtol: 1e-6 });
  });
});
