/**
 * Scaling and scaled accumulation, the arithmetic of guidance and of every
 * scheduler step.
 *
 * `addScaled(a, b, s)` computes `a + s * b` the way the equivalent PyTorch
 * expression does: the product `s * b` is rounded to float32, then added.
 * So `addScaled(uncond, sub(cond, uncond), guidance)` gives the same bits
 * as diffusers' `uncond + guidance * (cond - uncond)`.
 */
import type { Tensor } from './tensor.js';
import { applyBinary, type BinaryKernel } from './binary-op.js';
import type { Float32Operand } from './operand.js';

const scaleKernel: BinaryKernel = (out, o, a, ai, as, _b, _bi, _bs, n, s) => {
  if (as === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] * s;
  else {
    const av = a[ai] * s;
    for (let i = 0; i < n; i++) out[o + i] = av;
  }
};

const addScaledKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n, s) => {
  if (as === 1 && bs === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] + Math.fround(s * b[bi + i]);
  else for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] + Math.fround(s * b[bi + i * bs]);
};

/** t * s */
export function scale(t: Tensor<'float32'>, s: number, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('scale', scaleKernel, t, 0, out, Math.fround(s));
}

/** a + s * b, broadcasting a and b. */
export function addScaled(a: Float32Operand, b: Float32Operand, s: number, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('addScaled', addScaledKernel, a, b, out, Math.fround(s));
}

/** a += s * b, in place; returns a. b must broadcast to a's shape. */
export function addScaledInPlace(a: Tensor<'float32'>, b: Float32Operand, s: number): Tensor<'float32'> {
  return addScaled(a, b, s, a);
}

/** t *= s, in place; returns t. */
export function scaleInPlace(t: Tensor<'float32'>, s: number): Tensor<'float32'> {
  return scale(t, s, t);
}
