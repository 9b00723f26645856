import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { referenceSigmas, SDXL_SCHEDULER_CONFIG, sigmaAt } from '../../test/support/float64-reference.js';
import { DiffusionInputError } from '../errors.js';
import { EulerDiscreteScheduler } from './euler-discrete-scheduler.js';
import { applyDenoisingEnd, getImg2ImgTimesteps, retrieveTimesteps } from './img2img-timesteps.js';

const sdxl = () => EulerDiscreteScheduler.fromConfig(SDXL_SCHEDULER_CONFIG);

describe('img2img timesteps', () => {
  it('strength 0.3 at 50 steps keeps the last int(50 * 0.3) = 15 steps', () => {
    const s = sdxl();
    retrieveTimesteps(s, { numInferenceSteps: 50 });
    const r = getImg2ImgTimesteps(s, 50, 0.3);
    // t_start = 50 - 15 = 35; timesteps[35] = (49 - 35) * 20 + 1 = 281
    expect(r.numInferenceSteps).toBe(15);
    expect(r.beginIndex).toBe(35);
    expect(r.timesteps[0]).toBe(281);
    expect(r.latentTimestep).toBe(281);
    expect(r.timesteps.length).toBe(15);
    expect(s.beginIndex).toBe(35);
  });

  it('the begin index makes addNoise and the first step use sigma at t_start', () => {
    const s = sdxl();
    retrieveTimesteps(s, { numInferenceSteps: 25 });
    const r = getImg2ImgTimesteps(s, 25, 0.5);
    // int(25 * 0.5) = 12 -> t_start = 13, timestep (24 - 13) * 40 + 1 = 441
    expect(r.latentTimestep).toBe(441);
    const noisy = s.addNoise(Tensor.float32([0]), Tensor.float32([1]), [r.latentTimestep]);
    expect(noisy.data[0]).toBeCloseTo(sigmaAt(441, referenceSigmas()), 4);
    s.scaleModelInput(Tensor.float32([0]), r.timesteps[0]);
    expect(s.stepIndex).toBe(13);
  });

  it('denoisingStart keeps the timesteps below int(round(T - d T)) and ignores strength', () => {
    const s = sdxl();
    retrieveTimesteps(s, { numInferenceSteps: 40 });
    const r = getImg2ImgTimesteps(s, 40, 0.3, { denoisingStart: 0.8 });
    // cutoff 200; leading 40 steps: (39..0) * 25 + 1 -> timesteps below 200: 176, 151, ..., 1 = 8
    expect(r.numInferenceSteps).toBe(8);
    expect(r.timesteps[0]).toBe(176);
    expect(r.beginIndex).toBe(32);
  });

  it('denoisingEnd keeps the timesteps at or above the cutoff (base half of base + refiner)', () => {
    const s = sdxl();
    const all = retrieveTimesteps(s, { numInferenceSteps: 40 });
    const r = applyDenoisingEnd(s, all, 0.8);
    expect(r.numInferenceSteps).toBe(32);
    expect(r.timesteps[31]).toBe(201); // (39 - 31) * 25 + 1, the last one >= 200
    // together the two halves cover the whole schedule
    const refiner = getImg2ImgTimesteps(s, 40, 0.3, { denoisingStart: 0.8 });
    expect(r.numInferenceSteps + refiner.numInferenceSteps).toBe(40);
    expect(applyDenoisingEnd(s, all, undefined)).toBe(all);
    expect(applyDenoisingEnd(s, all, 1)).toBe(all);
  });

  it('custom sigmas pass through retrieveTimesteps', () => {
    const s = sdxl();
    const r = retrieveTimesteps(s, { sigmas: [10, 5, 1, 0] });
    expect(r.numInferenceSteps).toBe(3);
    expect(Array.from(s.sigmas)).toEqual([10, 5, 1, 0]);
  });

  it('rejects inputs that leave nothing to do', () => {
    const s = sdxl();
    retrieveTimesteps(s, { numInferenceSteps: 10 });
    expect(() => getImg2ImgTimesteps(s, 10, 0.05)).toThrow(/strength/);
    expect(() => getImg2ImgTimesteps(s, 10, 1.5)).toThrow(DiffusionInputError);
    expect(() => getImg2ImgTimesteps(s, 10, 0.5, { denoisingStart: 2 })).toThrow(DiffusionInputError);
    expect(() => getImg2ImgTimesteps(sdxl(), 10, 0.5)).toThrow(/setTimesteps/);
  });
});
