import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '../../test/support/float64-reference.js';
import { ClassifierFreeZeroStarGuidance } from './classifier-free-zero-star-guidance.js';

const t32 = (values: number[], shape = [values.length]) => new Tensor('float32', Float32Array.from(values), shape);

describe('ClassifierFreeZeroStarGuidance', () => {
  it('predicts zero for the first zero_init_steps steps', () => {
    const g = new ClassifierFreeZeroStarGuidance({ zero_init_steps: 1 });
    g.setState(0, 10, 999);
    expect(Array.from(g.forward({ pred_cond: t32([1, 2]), pred_uncond: t32([3, 4]) }).pred.data)).toEqual([0, 0]);
  });

  it('scales uncond by alpha = <cond, uncond> / |uncond|^2 per sample, then applies CFG', () => {
    const g = new ClassifierFreeZeroStarGuidance({ guidance_scale: 4 });
    g.setState(3, 10, 500);
    const cond = [1, 2, 0.5, -1];
    const uncond = [2, 1, 1, 1];
    const out = g.forward({ pred_cond: t32(cond, [2, 2]), pred_uncond: t32(uncond, [2, 2]) });
    // sample 0: alpha = (2 + 2) / (4 + 1) = 0.8; sample 1: alpha = (0.5 - 1) / 2 = -0.25
    const alpha = [0.8, 0.8, -0.25, -0.25];
    const scaled = uncond.map((u, i) => u * alpha[i]);
    expectAllClose(out.predUncond!.data, scaled, { rtol: 1e-6 });
    expectAllClose(out.pred.data, cond.map((c, i) => scaled[i] + 4 * (c - scaled[i])), { rtol: 1e-6 });
  });

  it('needs the step state and falls back to cond when guidance is off', () => {
    const g = new ClassifierFreeZeroStarGuidance();
    expect(() => g.forward({ pred_cond: t32([1]), pred_uncond: t32([1]) })).toThrow(/setState/);
    const off = new ClassifierFreeZeroStarGuidance({ guidance_scale: 1 });
    off.setState(5, 10);
    expect(off.numConditions).toBe(1);
    expect(off.forward({ pred_cond: t32([1.5]) }).pred.data[0]).toBe(1.5);
  });
});
