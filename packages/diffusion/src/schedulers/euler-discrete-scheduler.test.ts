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
import { DiffusionInputError, SchedulerStateError } from '../errors.js';
import { EulerDiscreteScheduler } from './euler-discrete-scheduler.js';

const sdxl = () => EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);
const t32 = (values: number[], shape = [values.length]) => new Tensor('float32', Float32Array.from(values), shape);
const ref = referenceSigmas();

/** leading spacing: step_ratio = 1000 // n, timesteps = (n-1..0) * ratio + steps_offset */
const leading = (n: number) => Array.from({ length: n }, (_, i) => (n - 1 - i) * Math.floor(1000 / n) + 1);

describe('EulerDiscreteScheduler with the SDXL config', () => {
  it.each([1, 4, 25, 50])('timesteps and sigmas at %i steps follow leading spacing and sigma(t)', (n) => {
    const s = sdxl();
    s.setTimesteps(n);
    expect(Array.from(s.timesteps)).toEqual(leading(n));
    // sigma(t) from the float64 formula; float32 cancellation near t = 1 allows ~4e-5 (diffusers is float32 too)
    expectAllClose(s.sigmas, [...leading(n).map((t) => sigmaAt(t, ref)), 0], { rtol: 5e-5 });
  });

  it('reproduces diffusers float32 values', () => {
    const s = sdxl();
    s.setTimesteps(25);
    // 1000 // 25 = 40: 24*40 + 1 = 961, then 921, 881, ..., 41, 1
    expect(Array.from(s.timesteps.subarray(0, 3))).toEqual([961, 921, 881]);
    expect(s.timesteps[24]).toBe(1);
    // diffusers 0.3x EulerDiscreteScheduler(SDXL).set_timesteps(25).sigmas[:3] (float32)
    expectAllClose(s.sigmas.subarray(0, 3), [11.676050186157227, 9.338079452514648, 7.562390327453613], { rtol: 1e-6 });
    expect(s.sigmas[24]).toBeCloseTo(0.041314479, 8);
    s.setTimesteps(4);
    expect(Array.from(s.timesteps)).toEqual([751, 501, 251, 1]);
    expectAllClose(s.sigmas, [4.116698265075684, 1.6236929893493652, 0.6983985900878906, 0.04131447896361351, 0], { rtol: 1e-6 });
  });

  it('initNoiseSigma is sqrt(max_sigma^2 + 1) for leading spacing', () => {
    const s = sdxl();
    // before setTimesteps the schedule holds all 1000 sigmas: max 14.614647 -> sqrt(14.614647^2 + 1) = 14.648819
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(14.614647 ** 2 + 1), 5);
    expect(s.initNoiseSigma).toBeCloseTo(14.648819, 5);
    // after setTimesteps(25) the largest sigma is sigma(961) = 11.676050: sqrt(11.676050^2 + 1) = 11.718795
    s.setTimesteps(25);
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(11.67605 ** 2 + 1), 5);
  });

  it('linspace spacing gives the published 25- and 20-step SD sigma tables', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { timestep_spacing: 'linspace' });
    s.setTimesteps(25);
    // Hard-coded sigma tables shipped by ONNX SD demos, generated with diffusers' EulerDiscreteScheduler.
    expectAllClose(
      s.sigmas.subarray(0, 10),
      [14.614647, 11.435942, 9.076809, 7.3019943, 5.9489183, 4.903778, 4.0860896, 3.4381795, 2.9183085, 2.495972],
      { rtol: 1e-6 },
    );
    expect(s.timesteps[1]).toBeCloseTo(957.375, 4); // 999 - 999/24
    expect(s.initNoiseSigma).toBeCloseTo(14.614647, 5); // linspace: max sigma itself
    s.setTimesteps(20);
    expectAllClose(s.sigmas.subarray(0, 5), [14.614647, 10.74685, 8.081536, 6.204952, 4.855665], { rtol: 1e-6 });
  });

  it('trailing spacing counts down from T - 1', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { timestep_spacing: 'trailing' });
    s.setTimesteps(4);
    // round(arange(1000, 0, -250)) - 1
    expect(Array.from(s.timesteps)).toEqual([999, 749, 499, 249]);
    s.setTimesteps(3);
    // round([1000, 666.67, 333.33]) - 1
    expect(Array.from(s.timesteps)).toEqual([999, 666, 332]);
  });

  it.each([4, 25])('Karras sigmas at %i steps follow eq. 5 between sigma(first) and sigma(last)', (n) => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { use_karras_sigmas: true });
    s.setTimesteps(n);
    const t = leading(n);
    const expected = referenceKarras(sigmaAt(t[n - 1], ref), sigmaAt(t[0], ref), n);
    expectAllClose(s.sigmas, [...expected, 0], { rtol: 5e-5 });
    expectAllClose(s.timesteps, expected.map((sigma) => referenceTimestepForSigma(sigma, ref)), { rtol: 1e-5, atol: 1e-4 });
  });

  it('final_sigmas_type sigma_min ends on sigma(0) instead of 0', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { final_sigmas_type: 'sigma_min' });
    s.setTimesteps(4);
    expect(s.sigmas[4]).toBeCloseTo(0.029167533, 8);
  });
});

describe('EulerDiscreteScheduler steps', () => {
  it('worked example: sigmas [2, 1, 0], epsilon prediction', () => {
    const s = new EulerDiscreteScheduler();
    s.setTimesteps(undefined, { sigmas: [2, 1, 0] });
    expect(s.numInferenceSteps).toBe(2);
    const t0 = s.timesteps[0];
    // scale: x / sqrt(2^2 + 1)
    expectAllClose(s.scaleModelInput(t32([1, -2, 0.5]), t0).data, [1 / Math.sqrt(5), -2 / Math.sqrt(5), 0.5 / Math.sqrt(5)], { rtol: 1e-7 });
    // x0 = x - 2 eps; d = (x - x0) / 2 = eps; x_next = x + d (1 - 2) = x - eps
    // by hand: x = 1, eps = 0.5 -> x0 = 0, x_next = 0.5
    const out = s.step(t32([0.5, 1, -0.25]), t0, t32([1, -2, 0.5]));
    expectAllClose(out.prevSample.data, [0.5, -3, 0.75], { rtol: 1e-7 });
    expectAllClose(out.predOriginalSample!.data, [0, -4, 1], { rtol: 1e-7 });
    expect(s.stepIndex).toBe(1);
    // second step to sigma 0 lands on x0 = x - 1 * eps
    const last = s.step(t32([0.5, 1, -0.25]), s.timesteps[1], out.prevSample);
    expectAllClose(last.prevSample.data, [0, -4, 1], { rtol: 1e-7 });
  });

  it('custom sigmas map back to fractional training timesteps', () => {
    const s = sdxl();
    s.setTimesteps(undefined, { sigmas: [2, 1, 0] });
    expectAllClose(s.timesteps, [referenceTimestepForSigma(2, ref), referenceTimestepForSigma(1, ref)], { rtol: 1e-5 });
  });

  it('v_prediction: x0 = -sigma/sqrt(sigma^2+1) v + x/(sigma^2+1)', () => {
    const s = new EulerDiscreteScheduler({ prediction_type: 'v_prediction' });
    s.setTimesteps(undefined, { sigmas: [3, 0.5, 0] });
    const x = [1, -1, 2];
    const v = [0.2, 0.4, -0.6];
    const out = s.step(t32(v), s.timesteps[0], t32(x));
    const x0 = x.map((xi, i) => (-3 / Math.sqrt(10)) * v[i] + xi / 10);
    expectAllClose(out.predOriginalSample!.data, x0, { rtol: 1e-6 });
    expectAllClose(out.prevSample.data, x.map((xi, i) => xi + ((xi - x0[i]) / 3) * (0.5 - 3)), { rtol: 1e-6 });
  });

  it('a full SDXL run integrates x_{i+1} = x_i + eps (sigma_{i+1} - sigma_i)', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const eps = t32([0.3, -0.7, 1.1, 0.05], [1, 1, 2, 2]);
    let x = t32([1.5, -2, 0.25, 3], [1, 1, 2, 2]);
    for (const t of s.timesteps) {
      s.scaleModelInput(x, t);
      x = s.step(eps, t, x).prevSample;
    }
    // constant eps: x_end = x_start - eps * sigma_0, sigma_0 = sigma(751)
    const sigma0 = sigmaAt(751, ref);
    expectAllClose(x.data, [1.5, -2, 0.25, 3].map((v, i) => v - eps.data[i] * sigma0), { rtol: 1e-5 });
  });

  it('churn adds generator noise scaled by sqrt(sigma_hat^2 - sigma^2)', () => {
    const s = new EulerDiscreteScheduler();
    s.setTimesteps(undefined, { sigmas: [2, 1, 0] });
    const generator = sequenceGenerator((size) => new Array(size).fill(1));
    const out = s.step(t32([0, 0]), s.timesteps[0], t32([1, 1]), { sChurn: 100, generator });
    // gamma = min(100 / 2, sqrt(2) - 1); sigma_hat = 2 (1 + gamma); eps = 0 so x_next = x + noise * sqrt(sigma_hat^2 - 4)
    const sigmaHat = 2 * Math.SQRT2;
    expectAllClose(out.prevSample.data, [1 + Math.sqrt(sigmaHat ** 2 - 4), 1 + Math.sqrt(sigmaHat ** 2 - 4)], { rtol: 1e-6 });
    expect(generator.shapes).toEqual([[2]]);
    expect(() => new EulerDiscreteScheduler().step(t32([0]), 999, t32([0]), { sChurn: 100 })).toThrow(DiffusionInputError);
  });

  it('addNoise is x + sigma(t) * noise, one sigma per batch sample', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const x = t32([1, 2, 3, 4], [2, 2]);
    const noise = t32([1, 1, -1, -1], [2, 2]);
    const out = s.addNoise(x, noise, [751, 1]);
    const a = sigmaAt(751, ref);
    const b = sigmaAt(1, ref);
    expectAllClose(out.data, [1 + a, 2 + a, 3 - b, 4 - b], { rtol: 5e-5 });
    expect(() => s.addNoise(x, noise, [751, 501, 251])).toThrow(DiffusionInputError);
  });

  it('setBeginIndex picks the sigma for img2img regardless of the timestep value', () => {
    const s = sdxl();
    s.setTimesteps(4);
    s.setBeginIndex(2);
    const scaled = s.scaleModelInput(t32([1]), s.timesteps[2]);
    expect(scaled.data[0]).toBeCloseTo(1 / Math.sqrt(sigmaAt(251, ref) ** 2 + 1), 5);
    expect(s.stepIndex).toBe(2);
  });

  it('a timestep repeated in the schedule resolves to its second position', () => {
    const s = new EulerDiscreteScheduler();
    s.setTimesteps(undefined, { timesteps: [500, 500, 10] });
    s.scaleModelInput(t32([1]), 500);
    expect(s.stepIndex).toBe(1);
  });

  it('rejects bad calls with typed errors', () => {
    const s = sdxl();
    s.setTimesteps(4);
    expect(() => s.step(t32([0]), 752, t32([0]))).toThrow(SchedulerStateError);
    const half = new Tensor('float16', new Uint16Array(1), [1]);
    expect(() => s.scaleModelInput(half, 751)).toThrow(/float32/);
    expect(() => s.step(t32([0, 0]), 751, t32([0]))).toThrow(/shape/);
    expect(() => s.setTimesteps(0)).toThrow(DiffusionInputError);
    expect(() => s.setTimesteps(4, { timesteps: [1] })).toThrow(DiffusionInputError);
    expect(() => s.setTimesteps(undefined, { sigmas: [1] })).toThrow(/at least 2/);
    const karras = EulerDiscreteScheduler.fromConfig({ use_karras_sigmas: true });
    expect(() => karras.setTimesteps(undefined, { timesteps: [10, 5] })).toThrow(/use_karras_sigmas/);
  });
});
