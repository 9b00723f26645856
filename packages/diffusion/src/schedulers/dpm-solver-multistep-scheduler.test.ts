import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import {
  expectAllClose,
  referenceKarras,
  referenceSigmas,
  referenceTimestepForSigma,
  SDXL_SCHEDULER_CONFIG,
  sequenceGenerator,
  sigmaAt,
} from '../../test/support/float64-reference.js';
import { ComponentConfigError, DiffusionInputError, SchedulerStateError } from '../errors.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep-scheduler.js';

const ref = referenceSigmas();
const t32 = (values: number[]) => new Tensor('float32', Float32Array.from(values), [values.length]);
const karras = (overrides = {}) =>
  DPMSolverMultistepScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { use_karras_sigmas: true, ...overrides });

/** VP coefficients of a VE sigma: alpha = 1/sqrt(sigma^2 + 1), sigma_vp = sigma alpha, lambda = log(alpha / sigma_vp). */
const vp = (sigma: number) => {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha, sigma: sigma * alpha, lambda: Math.log(alpha) - Math.log(sigma * alpha) };
};

describe('DPMSolverMultistepScheduler schedules', () => {
  it.each([1, 4, 25, 50])('SDXL leading timesteps at %i steps space n + 1 points and drop the last', (n) => {
    const s = DPMSolverMultistepScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
    s.setTimesteps(n);
    // step_ratio = 1000 // (n + 1); timesteps = (n..1) * ratio + 1, e.g. 25 steps: 38 -> 951, 913, ..., 39
    const ratio = Math.floor(1000 / (n + 1));
    const expected = Array.from({ length: n }, (_, i) => (n - i) * ratio + 1);
    expect(Array.from(s.timesteps)).toEqual(expected);
    expectAllClose(s.sigmas, [...expected.map((t) => sigmaAt(t, ref)), 0], { rtol: 5e-5 });
    expect(s.initNoiseSigma).toBe(1);
  });

  it('DPM++ 2M Karras at 20 steps gives the timesteps diffusers prints for SDXL', () => {
    const s = karras();
    s.setTimesteps(20);
    // printed by diffusers' DPMSolverMultistepScheduler(use_karras_sigmas=True) on the SDXL config
    expect(Array.from(s.timesteps)).toEqual([999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35, 15, 6, 2, 0]);
  });

  it.each([1, 4, 25, 50])('Karras sigmas at %i steps follow eq. 5 from sigma_max to sigma_min', (n) => {
    const s = karras();
    s.setTimesteps(n);
    const expected = referenceKarras(ref[0], ref[999], n);
    expectAllClose(s.sigmas, [...expected, 0], { rtol: 5e-5 });
    // timesteps are the rounded inverse of sigma(t); a value within 1e-3 of .5 may round either way
    const t = expected.map((sigma) => referenceTimestepForSigma(sigma, ref));
    s.timesteps.forEach((ti, i) => expect(Math.abs(ti - Math.round(t[i]))).toBeLessThanOrEqual(Math.abs((t[i] % 1) - 0.5) < 1e-3 ? 1 : 0));
  });

  it('Karras at 4 and 25 steps (values from diffusers float32 set_timesteps)', () => {
    const s = karras();
    s.setTimesteps(4);
    expect(Array.from(s.timesteps)).toEqual([999, 687, 146, 0]);
    expectAllClose(s.sigmas, [14.614646911621094, 3.1686110496520996, 0.44692090153694153, 0.029167532920837402, 0], { rtol: 1e-6 });
    s.setTimesteps(25);
    expect(Array.from(s.timesteps.subarray(0, 6))).toEqual([999, 970, 938, 905, 868, 829]);
    expect(Array.from(s.timesteps.subarray(21))).toEqual([9, 4, 1, 0]);
  });

  it('lambda_min_clipped shortens the schedule at the noisy end', () => {
    const s = DPMSolverMultistepScheduler.fromConfig({ ...SDXL_SCHEDULER_CONFIG, timestep_spacing: 'linspace' }, { lambda_min_clipped: -3 });
    s.setTimesteps(4);
    // lambda(t) = -log(sigma(t)) < -3 once sigma > e^3 = 20.1: never for SDXL (sigma_max 14.6), so nothing is clipped
    expect(Array.from(s.timesteps)).toEqual([999, 749, 500, 250]);
    const clipped = DPMSolverMultistepScheduler.fromConfig({ ...SDXL_SCHEDULER_CONFIG, timestep_spacing: 'linspace' }, { lambda_min_clipped: -2.5 });
    clipped.setTimesteps(4);
    // lambda(t) < -2.5 once sigma(t) > e^2.5 = 12.18; the schedule then ends at the last unclipped t:
    // round(linspace(0, last - 1, 5)) reversed, last = first clipped t
    const last = ref.findIndex((sigma) => -Math.log(sigma) < -2.5);
    expect(Array.from(clipped.timesteps)).toEqual([4, 3, 2, 1].map((k) => Math.round(((last - 1) * k) / 4)));
  });
});

describe('DPMSolverMultistepScheduler steps', () => {
  it('first step is first order, then DPM-Solver++(2M): x_t = (s_t/s_s) x - a_t (e^-h - 1) [(1 + 1/2r) D_s - 1/2r D_prev]', () => {
    const s = karras();
    s.setTimesteps(25);
    const sig = Array.from(s.sigmas);
    let x = [5, -3, 1];
    const data: number[][] = [];
    for (let k = 0; k < 3; k++) {
      const t = s.timesteps[k];
      const eps = [0.3 * (k + 1), -0.8, 0.1 - k];
      const out = s.step(t32(eps), t, t32(x));
      // data prediction from eps in VP terms: D = (x - sigma_vp eps) / alpha
      const { alpha: as, sigma: ss, lambda: ls } = vp(sig[k]);
      const d = x.map((v, i) => (v - ss * eps[i]) / as);
      data.push(d);
      const { alpha: at, sigma: st, lambda: lt } = vp(sig[k + 1]);
      const h = lt - ls;
      let expected: number[];
      if (k === 0) {
        expected = x.map((v, i) => (st / ss) * v - at * (Math.exp(-h) - 1) * d[i]);
      } else {
        const r = (ls - vp(sig[k - 1]).lambda) / h;
        const prev = data[k - 1];
        expected = x.map((v, i) => (st / ss) * v - at * (Math.exp(-h) - 1) * ((1 + 1 / (2 * r)) * d[i] - (1 / (2 * r)) * prev[i]));
      }
      expectAllClose(out.predOriginalSample!.data, d, { rtol: 1e-5, atol: 1e-6 });
      expectAllClose(out.prevSample.data, expected, { rtol: 1e-5, atol: 1e-6 });
      x = Array.from(out.prevSample.data);
    }
  });

  it('with few steps the last step is first order and lands on the data prediction (final sigma 0)', () => {
    const s = karras();
    s.setTimesteps(4);
    let x = t32([3, -2]);
    const eps = t32([0.5, 0.25]);
    let last: Float32Array = new Float32Array();
    for (const t of s.timesteps) {
      const out = s.step(eps, t, x);
      last = out.predOriginalSample!.data;
      x = out.prevSample;
    }
    expectAllClose(x.data, last, { rtol: 1e-6 });
  });

  it('sde-dpmsolver++ first order adds sigma_t sqrt(1 - e^-2h) noise', () => {
    const s = karras({ algorithm_type: 'sde-dpmsolver++' });
    s.setTimesteps(10);
    const generator = sequenceGenerator((n) => new Array(n).fill(1));
    const out = s.step(t32([0.5]), s.timesteps[0], t32([2]), { generator });
    const a = vp(s.sigmas[0]);
    const b = vp(s.sigmas[1]);
    const h = b.lambda - a.lambda;
    const d = (2 - a.sigma * 0.5) / a.alpha;
    const expected = (b.sigma / a.sigma) * Math.exp(-h) * 2 + b.alpha * (1 - Math.exp(-2 * h)) * d + b.sigma * Math.sqrt(1 - Math.exp(-2 * h));
    expect(out.prevSample.data[0]).toBeCloseTo(expected, 5);
    expect(generator.shapes).toEqual([[1]]);
  });

  it('addNoise is alpha x + sigma_vp noise at the timestep sigma', () => {
    const s = DPMSolverMultistepScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
    s.setTimesteps(4);
    const { alpha, sigma } = vp(sigmaAt(401, ref));
    const out = s.addNoise(t32([1, -1]), t32([0.5, 0.5]), [401]);
    expectAllClose(out.data, [alpha + 0.5 * sigma, -alpha + 0.5 * sigma], { rtol: 5e-5 });
  });

  it('scaleModelInput is the identity and errors are typed', () => {
    const s = DPMSolverMultistepScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
    const x = t32([1, 2]);
    expect(s.scaleModelInput(x, 1)).toBe(x);
    expect(() => s.step(x, 1, x)).toThrow(SchedulerStateError);
    expect(() => s.setTimesteps(undefined, { sigmas: [1, 0] })).toThrow(DiffusionInputError);
    expect(() => DPMSolverMultistepScheduler.fromConfig({ algorithm_type: 'dpmsolver' })).toThrow(ComponentConfigError);
    expect(() => DPMSolverMultistepScheduler.fromConfig({ solver_order: 4 })).toThrow(ComponentConfigError);
    // DEIS configs load as dpmsolver++, as in diffusers
    expect(DPMSolverMultistepScheduler.fromConfig({ algorithm_type: 'deis', solver_type: 'logrho' }).config.algorithm_type).toBe('dpmsolver++');
  });
});
