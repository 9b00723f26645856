/**
 * An independent float64 reference for the tests, written from the
 * published formulas (DDPM betas, Karras et al. 2022, DPM-Solver++), not
 * from the package's code: expected values in tests come from here or are
 * hard-coded with their source.
 */
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { expect } from 'vitest';

/** The SDXL base scheduler_config.json (stabilityai/stable-diffusion-xl-base-1.0, scheduler/), kept once in runtime. */
export { SDXL_BASE_SCHEDULER_CONFIG as SDXL_SCHEDULER_CONFIG } from '@modular-diffusers/runtime';

/** alpha_bar_t = prod_{s<=t} (1 - beta_s), scaled_linear: beta_t = (sqrt(b0) + t/(T-1) (sqrt(b1) - sqrt(b0)))^2. */
export function referenceAlphasCumprod(betaStart = 0.00085, betaEnd = 0.012, T = 1000, schedule = 'scaled_linear'): number[] {
  const out: number[] = [];
  let product = 1;
  for (let t = 0; t < T; t++) {
    const beta =
      schedule === 'scaled_linear'
        ? (Math.sqrt(betaStart) + (t / (T - 1)) * (Math.sqrt(betaEnd) - Math.sqrt(betaStart))) ** 2
        : betaStart + (t / (T - 1)) * (betaEnd - betaStart);
    product *= 1 - beta;
    out.push(product);
  }
  return out;
}

/** sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), indexed by training timestep. */
export function referenceSigmas(alphasCumprod = referenceAlphasCumprod()): number[] {
  return alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

/** sigma at a possibly fractional timestep: linear interpolation between integer timesteps. */
export function sigmaAt(t: number, sigmas = referenceSigmas()): number {
  const lo = Math.floor(t);
  if (lo >= sigmas.length - 1) return sigmas[sigmas.length - 1];
  return sigmas[lo] + (t - lo) * (sigmas[lo + 1] - sigmas[lo]);
}

/** Karras et al. 2022 eq. 5: sigma_i = (smax^(1/rho) + i/(n-1) (smin^(1/rho) - smax^(1/rho)))^rho. */
export function referenceKarras(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  return Array.from({ length: n }, (_, i) => {
    const ramp = n === 1 ? 0 : i / (n - 1);
    return (sigmaMax ** (1 / rho) + ramp * (sigmaMin ** (1 / rho) - sigmaMax ** (1 / rho))) ** rho;
  });
}

/** Inverse of sigmaAt in log space: the fractional t with log sigma linearly interpolated. */
export function referenceTimestepForSigma(sigma: number, sigmas = referenceSigmas()): number {
  const logs = sigmas.map(Math.log);
  const target = Math.log(sigma);
  if (target <= logs[0]) return 0;
  if (target >= logs[logs.length - 1]) return logs.length - 1;
  let lo = 0;
  while (logs[lo + 1] < target) lo++;
  return lo + (target - logs[lo]) / (logs[lo + 1] - logs[lo]);
}

/** Asserts |a - e| <= atol + rtol |e| elementwise, reporting the first failing index. */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 0 }: { rtol?: number; atol?: number } = {},
): void {
  expect(actual.length, 'length').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect(actual[i], `index ${i}`).toBe(expected[i]);
  }
}

/** A deterministic NoiseGenerator for tests: call k fills its tensor with values(size, k). */
export function sequenceGenerator(values: (size: number, call: number) => number[]) {
  const shapes: number[][] = [];
  return {
    shapes,
    randn(shape: number[]): Tensor<'float32'> {
      const size = shape.reduce((a, b) => a * b, 1);
      const call = shapes.length;
      shapes.push(shape);
      return new Tensor('float32', Float32Array.from(values(size, call)), shape);
    },
  };
}
