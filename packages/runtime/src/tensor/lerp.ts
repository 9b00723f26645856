/**
 * torch.lerp: start + weight * (end - start), with PyTorch's numerically
 * stable split. For |w| < 0.5 the result is fma(w, end - start, start);
 * otherwise fma(w - 1, end - start, end), so w = 1 returns `end` exactly.
 * Both use a single rounding (fmaf), as torch's vectorized CPU kernel does.
 */
import type { Tensor } from './tensor.js';
import { applyBinary, type BinaryKernel } from './binary-op.js';
import { fmaf } from './fma.js';
import { float32Operand, float32Output, type Float32Operand } from './operand.js';
import { runTernary, type TernaryKernel } from './ternary-op.js';

function lerpOne(start: number, end: number, weight: number): number {
  const diff = Math.fround(end - start);
  return Math.abs(weight) < 0.5 ? fmaf(weight, diff, start) : fmaf(Math.fround(weight - 1), diff, end);
}

const lerpScalarKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n, w) => {
  for (let i = 0; i < n; i++) out[o + i] = lerpOne(a[ai + i * as], b[bi + i * bs], w);
};

const lerpTensorKernel: TernaryKernel<Float32Array, Float32Array, Float32Array, Float32Array> = (
  out, o, a, ai, as, b, bi, bs, w, wi, ws, n,
) => {
  for (let i = 0; i < n; i++) out[o + i] = lerpOne(a[ai + i * as], b[bi + i * bs], w[wi + i * ws]);
};

/** start + weight * (end - start); weight is a number or a broadcastable tensor. */
export function lerp(
  start: Float32Operand,
  end: Float32Operand,
  weight: Float32Operand,
  out?: Tensor<'float32'>,
): Tensor<'float32'> {
  if (typeof weight === 'number') return applyBinary('lerp', lerpScalarKernel, start, end, out, Math.fround(weight));
  const a = float32Operand(start, 'lerp');
  const b = float32Operand(end, 'lerp');
  const w = float32Operand(weight, 'lerp');
  const result = float32Output([a.shape, b.shape, w.shape], out, 'lerp');
  runTernary(result.shape, [a.shape, b.shape, w.shape], lerpTensorKernel, result.data, a.data, b.data, w.data);
  return result;
}
