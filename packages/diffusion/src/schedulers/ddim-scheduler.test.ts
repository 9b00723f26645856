import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { expectAllClose, referenceAlphasCumprod, SDXL_SCHEDULER_CONFIG } from '../../test/support/float64-reference.js';
import { DiffusionInputError, SchedulerStateError } from '../errors.js';
import { DDIMScheduler } from './ddim-scheduler.js';

const acp = referenceAlphasCumprod();
const t32 = (values: number[]) => new Tensor('float32', Float32Array.from(values), [values.length]);
const sdxl = () => DDIMScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, {});

describe('DDIMScheduler', () => {
  it.each([
    [1, [1]],
    [4, [751, 501, 251, 1]],
    [25, Array.from({ length: 25 }, (_, i) => 961 - 40 * i)],
    [50, Array.from({ length: 50 }, (_, i) => 981 - 20 * i)],
  ])('SDXL timesteps at %i steps', (n, expected) => {
    const s = sdxl();
    s.setTimesteps(n as number);
    expect(Array.from(s.timesteps)).toEqual(expected);
    expect(s.sigmas).toBeUndefined();
    expect(s.initNoiseSigma).toBe(1);
  });

  it('linspace spacing rounds half to even like numpy', () => {
    const s = DDIMScheduler.fromConfig({ timestep_spacing: 'linspace' });
    s.setTimesteps(5);
    // np.linspace(0, 999, 5) = [0, 249.75, 499.5, 749.25, 999] -> round -> [0, 250, 500, 749, 999]
    expect(Array.from(s.timesteps)).toEqual([999, 749, 500, 250, 0]);
  });

  it('eta = 0: x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps with x0 = (x - sqrt(1 - a_t) eps) / sqrt(a_t)', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const x = [1.2, -0.4, 2];
    const eps = [0.3, -0.1, 0.9];
    const [a, ap] = [acp[751], acp[501]];
    const x0 = x.map((xi, i) => (xi - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a));
    const out = s.step(t32(eps), 751, t32(x));
    expectAllClose(out.predOriginalSample!.data, x0, { rtol: 1e-5 });
    expectAllClose(out.prevSample.data, x0.map((v, i) => Math.sqrt(ap) * v + Math.sqrt(1 - ap) * eps[i]), { rtol: 1e-5 });
  });

  it('the last step uses alphas_cumprod[0] when set_alpha_to_one is false (SDXL), 1 otherwise', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const out = s.step(t32([0.5]), 1, t32([1]));
    const x0 = (1 - Math.sqrt(1 - acp[1]) * 0.5) / Math.sqrt(acp[1]);
    expect(out.prevSample.data[0]).toBeCloseTo(Math.sqrt(acp[0]) * x0 + Math.sqrt(1 - acp[0]) * 0.5, 5);
    const one = DDIMScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { set_alpha_to_one: true });
    one.setTimesteps(4);
    expect(one.step(t32([0.5]), 1, t32([1])).prevSample.data[0]).toBeCloseTo(x0, 5);
  });

  it('eta > 0 adds sigma_t * noise with sigma_t = eta sqrt((1 - a_prev)/(1 - a_t)) sqrt(1 - a_t/a_prev)', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const [a, ap] = [acp[501], acp[251]];
    const std = Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
    const out = s.step(t32([0.2]), 501, t32([1]), { eta: 1, varianceNoise: t32([2]) });
    const x0 = (1 - Math.sqrt(1 - a) * 0.2) / Math.sqrt(a);
    const expected = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - std ** 2) * 0.2 + std * 2;
    expect(out.prevSample.data[0]).toBeCloseTo(expected, 5);
    expect(() => s.step(t32([0.2]), 501, t32([1]), { eta: 1 })).toThrow(DiffusionInputError);
  });

  it('clip_sample clamps x0 to the clip range', () => {
    const s = DDIMScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { clip_sample: true, clip_sample_range: 1 });
    s.setTimesteps(4);
    const out = s.step(t32([-5, 5]), 751, t32([0, 0]));
    expect(Array.from(out.predOriginalSample!.data)).toEqual([1, -1]);
  });

  it('addNoise is sqrt(a_t) x + sqrt(1 - a_t) noise', () => {
    const s = sdxl();
    const out = s.addNoise(t32([1, 2]), t32([0.5, -0.5]), [100]);
    expectAllClose(out.data, [1, 2].map((v, i) => Math.sqrt(acp[100]) * v + Math.sqrt(1 - acp[100]) * [0.5, -0.5][i]), { rtol: 1e-5 });
  });

  it('rejects stepping before setTimesteps and non-integer timesteps', () => {
    const s = sdxl();
    expect(() => s.step(t32([0]), 1, t32([0]))).toThrow(SchedulerStateError);
    s.setTimesteps(4);
    expect(() => s.step(t32([0]), 750.5, t32([0]))).toThrow(SchedulerStateError);
    expect(() => s.setTimesteps(1001)).toThrow(DiffusionInputError);
  });
});
