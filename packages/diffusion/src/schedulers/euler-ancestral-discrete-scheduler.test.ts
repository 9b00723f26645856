import { Generator, Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { expectAllClose, referenceSigmas, SDXL_SCHEDULER_CONFIG, sequenceGenerator, sigmaAt } from '../../test/support/float64-reference.js';
import { ComponentConfigError, DiffusionInputError } from '../errors.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete-scheduler.js';

const ref = referenceSigmas();
const t32 = (values: number[]) => new Tensor('float32', Float32Array.from(values), [values.length]);
const leading = (n: number) => Array.from({ length: n }, (_, i) => (n - 1 - i) * Math.floor(1000 / n) + 1);
const sdxl = () => EulerAncestralDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);

describe('EulerAncestralDiscreteScheduler', () => {
  it.each([1, 4, 25, 50])('SDXL timesteps and sigmas at %i steps', (n) => {
    const s = sdxl();
    s.setTimesteps(n);
    expect(Array.from(s.timesteps)).toEqual(leading(n));
    expectAllClose(s.sigmas, [...leading(n).map((t) => sigmaAt(t, ref)), 0], { rtol: 5e-5 });
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(sigmaAt(leading(n)[0], ref) ** 2 + 1), 4);
  });

  it('steps down to sigma_down and adds noise of size sigma_up', () => {
    const s = sdxl();
    s.setTimesteps(4);
    const [from, to] = [s.sigmas[0], s.sigmas[1]];
    // k-diffusion get_ancestral_step: sigma_up = sqrt(to^2 (from^2 - to^2) / from^2), sigma_down = sqrt(to^2 - up^2)
    const up = Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2);
    const down = Math.sqrt(to ** 2 - up ** 2);
    const generator = sequenceGenerator((size) => Array.from({ length: size }, (_, i) => (i % 2 ? -1 : 1)));
    const x = [2, -1, 0.5];
    const eps = [0.1, 0.2, -0.3];
    s.scaleModelInput(t32(x), 751);
    const out = s.step(t32(eps), 751, t32(x), { generator });
    expectAllClose(
      out.prevSample.data,
      x.map((xi, i) => xi + eps[i] * (down - from) + (i % 2 ? -1 : 1) * up),
      { rtol: 1e-6 },
    );
    expectAllClose(out.predOriginalSample!.data, x.map((xi, i) => xi - from * eps[i]), { rtol: 1e-6 });
  });

  it('the last step lands on x0 but still draws noise, keeping the random stream aligned with diffusers', () => {
    const s = sdxl();
    s.setTimesteps(1);
    const generator = sequenceGenerator((size) => new Array(size).fill(5));
    const out = s.step(t32([1]), 1, t32([3]), { generator });
    // sigma_to = 0: sigma_up = sigma_down = 0, x_next = x - sigma(1) eps
    expect(out.prevSample.data[0]).toBeCloseTo(3 - sigmaAt(1, ref), 5);
    expect(generator.shapes).toEqual([[1]]);
  });

  it('needs a generator, and has no sample prediction or custom schedules (as in diffusers)', () => {
    const s = sdxl();
    s.setTimesteps(4);
    expect(() => s.step(t32([1]), 751, t32([1]))).toThrow(DiffusionInputError);
    expect(() => EulerAncestralDiscreteScheduler.fromConfig({ prediction_type: 'sample' })).toThrow(ComponentConfigError);
    expect(() => s.setTimesteps(undefined, { sigmas: [1, 0] })).toThrow(/custom sigmas/);
  });

  it('v_prediction uses c_out = -sigma / sqrt(sigma^2 + 1), c_skip = 1 / (sigma^2 + 1)', () => {
    const s = EulerAncestralDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG, { prediction_type: 'v_prediction' });
    s.setTimesteps(4);
    const sigma = s.sigmas[0];
    const out = s.step(t32([0.5]), 751, t32([2]), { generator: sequenceGenerator((n) => new Array(n).fill(0)) });
    expect(out.predOriginalSample!.data[0]).toBeCloseTo((-sigma / Math.sqrt(sigma ** 2 + 1)) * 0.5 + 2 / (sigma ** 2 + 1), 6);
  });

  it("takes the runtime's seeded torch-style Generator: same seed, same trajectory", () => {
    const run = (seed: number) => {
      const s = sdxl();
      s.setTimesteps(4);
      let x = t32([1, -1, 0.5, 2]);
      const generator = new Generator(seed);
      for (const t of s.timesteps) x = s.step(t32([0.1, 0.2, 0.3, 0.4]), t, x, { generator }).prevSample;
      return Array.from(x.data);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });
});
