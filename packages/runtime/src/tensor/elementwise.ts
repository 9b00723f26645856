/**
 * Elementwise float32 arithmetic with broadcasting: add, sub, mul, div,
 * maximum, minimum. Each result element is rounded to float32 once, the
 * same as PyTorch's CPU kernels for a single operation.
 *
 * Every function takes an optional `out`; passing one of the inputs makes
 * the operation in place (e.g. `add(latents, noise, latents)`).
 */
import type { Tensor } from './tensor.js';
import { applyBinary, type BinaryKernel } from './binary-op.js';
import type { Float32Operand } from './operand.js';

const addKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  if (as === 1 && bs === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] + b[bi + i];
  else if (as === 1) {
    const bv = b[bi];
    for (let i = 0; i < n; i++) out[o + i] = a[ai + i] + bv;
  } else {
    const av = a[ai];
    for (let i = 0; i < n; i++) out[o + i] = av + b[bi + i * bs];
  }
};

const subKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  if (as === 1 && bs === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] - b[bi + i];
  else if (as === 1) {
    const bv = b[bi];
    for (let i = 0; i < n; i++) out[o + i] = a[ai + i] - bv;
  } else {
    const av = a[ai];
    for (let i = 0; i < n; i++) out[o + i] = av - b[bi + i * bs];
  }
};

const mulKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  if (as === 1 && bs === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] * b[bi + i];
  else if (as === 1) {
    const bv = b[bi];
    for (let i = 0; i < n; i++) out[o + i] = a[ai + i] * bv;
  } else {
    const av = a[ai];
    for (let i = 0; i < n; i++) out[o + i] = av * b[bi + i * bs];
  }
};

const divKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  if (as === 1 && bs === 1) for (let i = 0; i < n; i++) out[o + i] = a[ai + i] / b[bi + i];
  else if (as === 1) {
    const bv = b[bi];
    for (let i = 0; i < n; i++) out[o + i] = a[ai + i] / bv;
  } else {
    const av = a[ai];
    for (let i = 0; i < n; i++) out[o + i] = av / b[bi + i * bs];
  }
};

// torch.maximum/minimum propagate NaN from either side.
const maximumKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[o + i] = x !== x || y !== y ? NaN : x > y ? x : y;
  }
};

const minimumKernel: BinaryKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[o + i] = x !== x || y !== y ? NaN : x < y ? x : y;
  }
};

/** a + b */
export function add(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('add', addKernel, a, b, out);
}

/** a - b */
export function sub(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('sub', subKernel, a, b, out);
}

/** a * b */
export function mul(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('mul', mulKernel, a, b, out);
}

/** a / b (IEEE: x/0 is ±Infinity, 0/0 is NaN, as in PyTorch). */
export function div(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('div', divKernel, a, b, out);
}

/** Elementwise maximum, NaN-propagating like torch.maximum. */
export function maximum(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('maximum', maximumKernel, a, b, out);
}

/** Elementwise minimum, NaN-propagating like torch.minimum. */
export function minimum(a: Float32Operand, b: Float32Operand, out?: Tensor<'float32'>): Tensor<'float32'> {
  return applyBinary('minimum', minimumKernel, a, b, out);
}
