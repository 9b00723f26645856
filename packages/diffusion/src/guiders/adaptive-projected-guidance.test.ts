import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '../../test/support/float64-reference.js';
import { AdaptiveProjectedGuidance } from './adaptive-projected-guidance.js';

const t32 = (values: number[], shape: number[]) => new Tensor('float32', Float32Array.from(values), shape);

/** APG (arXiv 2410.02416, Algorithm 1) per sample, with everything but the batch dim as the vector. */
function referenceApg(cond: number[], uncond: number[], diffIn: number[], { scale = 7.5, eta = 1, rescale = 15, batch = 2 } = {}) {
  const inner = cond.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const c = cond.slice(b * inner, (b + 1) * inner);
    const u = uncond.slice(b * inner, (b + 1) * inner);
    let d = diffIn.slice(b * inner, (b + 1) * inner);
    const norm = Math.hypot(...d);
    if (rescale > 0) d = d.map((v) => v * Math.min(1, rescale / norm));
    const cNorm = Math.hypot(...c);
    const unit = c.map((v) => v / cNorm);
    const dot = d.reduce((a, v, i) => a + v * unit[i], 0);
    const parallel = unit.map((v) => dot * v);
    const orthogonal = d.map((v, i) => v - parallel[i]);
    out.push(...u.map((v, i) => v + scale * (orthogonal[i] + eta * parallel[i])));
  }
  return out;
}

const cond = [1, 2, -1, 0.5, 3, -2, 0, 1];
const uncond = [0.5, 1, -0.5, 0, 1, -1, 0.5, 0];
const diff = cond.map((c, i) => c - uncond[i]);

describe('AdaptiveProjectedGuidance', () => {
  it('keeps the orthogonal part and eta times the parallel part of cond - uncond', () => {
    const g = new AdaptiveProjectedGuidance({ eta: 0.25 });
    g.setState(0, 10, 999);
    const out = g.forward({ pred_cond: t32(cond, [2, 2, 2]), pred_uncond: t32(uncond, [2, 2, 2]) });
    expectAllClose(out.pred.data, referenceApg(cond, uncond, diff, { eta: 0.25 }), { rtol: 1e-5, atol: 1e-6 });
  });

  it('caps the guidance norm at adaptive_projected_guidance_rescale', () => {
    const g = new AdaptiveProjectedGuidance({ adaptive_projected_guidance_rescale: 0.5, eta: 0 });
    const out = g.forward({ pred_cond: t32(cond, [2, 4]), pred_uncond: t32(uncond, [2, 4]) });
    expectAllClose(out.pred.data, referenceApg(cond, uncond, diff, { eta: 0, rescale: 0.5 }), { rtol: 1e-5, atol: 1e-6 });
  });

  it('momentum accumulates the direction across steps and restarts at step 0', () => {
    const g = new AdaptiveProjectedGuidance({ adaptive_projected_guidance_momentum: -0.5 });
    const run = (step: number, c: number[]) => {
      g.setState(step, 10, 999 - step);
      g.prepareInputs({});
      return g.forward({ pred_cond: t32(c, [2, 4]), pred_uncond: t32(uncond, [2, 4]) }).pred.data;
    };
    run(0, cond);
    const cond2 = cond.map((v) => v * 0.5);
    const second = run(1, cond2);
    // running average: diff_1 + (-0.5) * diff_0
    const diff2 = cond2.map((c, i) => c - uncond[i] - 0.5 * diff[i]);
    expectAllClose(second, referenceApg(cond2, uncond, diff2), { rtol: 1e-5, atol: 1e-6 });
    // a new run forgets the old average
    expectAllClose(run(0, cond), referenceApg(cond, uncond, diff), { rtol: 1e-5, atol: 1e-6 });
  });

  it('norm_dim reduces over the chosen dims only', () => {
    const g = new AdaptiveProjectedGuidance({ adaptive_projected_guidance_norm_dim: -1, adaptive_projected_guidance_rescale: 0 });
    const out = g.forward({ pred_cond: t32(cond, [2, 2, 2]), pred_uncond: t32(uncond, [2, 2, 2]) });
    // with dim -1 each row of 2 is its own vector: 4 "samples" of length 2
    expectAllClose(out.pred.data, referenceApg(cond, uncond, diff, { rescale: 0, batch: 4 }), { rtol: 1e-5, atol: 1e-6 });
  });
});
