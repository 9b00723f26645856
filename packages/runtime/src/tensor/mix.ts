/**
 * Blends two tensors by a mask: `(1 - mask) * a + mask * b`, evaluated in
 * that order with float32 rounding after each operation, which is the
 * expression diffusers' inpainting and differential-diffusion steps use
 * (`(1 - init_mask) * init_latents_proper + init_mask * latents`). So
 * mask = 0 keeps `a` and mask = 1 takes `b`. The mask broadcasts, e.g.
 * [B,1,H,W] against [B,C,H,W].
 */
import type { Tensor } from './tensor.js';
import { float32Operand, float32Output, type Float32Operand } from './operand.js';
import { runTernary, type TernaryKernel } from './ternary-op.js';

const mixKernel: TernaryKernel<Float32Array, Float32Array, Float32Array, Float32Array> = (
  out, o, a, ai, as, b, bi, bs, m, mi, ms, n,
) => {
  if (as === 1 && bs === 1 && ms === 1) {
    for (let i = 0; i < n; i++) {
      const mask = m[mi + i];
      out[o + i] = Math.fround(Math.fround(1 - mask) * a[ai + i]) + Math.fround(mask * b[bi + i]);
    }
  } else if (as === 1 && bs === 1) {
    const mask = m[mi];
    const keep = Math.fround(1 - mask);
    for (let i = 0; i < n; i++) out[o + i] = Math.fround(keep * a[ai + i]) + Math.fround(mask * b[bi + i]);
  } else {
    for (let i = 0; i < n; i++) {
      const mask = m[mi + i * ms];
      out[o + i] = Math.fround(Math.fround(1 - mask) * a[ai + i * as]) + Math.fround(mask * b[bi + i * bs]);
    }
  }
};

/** (1 - mask) * a + mask * b */
export function mix(a: Float32Operand, b: Float32Operand, mask: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  const x = float32Operand(a, 'mix');
  const y = float32Operand(b, 'mix');
  const m = float32Operand(mask, 'mix');
  const result = float32Output([x.shape, y.shape, m.shape], out, 'mix');
  runTernary(result.shape, [x.shape, y.shape, m.shape], mixKernel, result.data, x.data, y.data, m.data);
  return result;
}
