/**
 * Elementwise comparisons producing bool tensors (Uint8Array of 0/1), with
 * broadcasting. Operands are float32 or int32 tensors or numbers; any
 * comparison with NaN is false, as in PyTorch.
 */
import { Tensor, TensorDTypeError, expectDType } from './tensor.js';
import { broadcastShapes, forEachRun, planBroadcast } from './broadcast.js';

type Comparable = Tensor<'float32'> | Tensor<'int32'> | number;
type Numbers = Float32Array | Int32Array;

// A number meets a float32 tensor as float32 (PyTorch's promotion); against
// an int32 tensor an integer stays exact.
function operand(value: Comparable | Tensor, other: Comparable, operation: string): { data: Numbers; shape: readonly number[] } {
  if (typeof value === 'number') {
    const exact = typeof other !== 'number' && other.dtype === 'int32' && Number.isInteger(value);
    return { data: exact ? (Float64Array.of(value) as unknown as Float32Array) : Float32Array.of(value), shape: [] };
  }
  expectDType(value, ['float32', 'int32'], operation);
  return value;
}

type CompareKernel = (out: Uint8Array, o: number, a: Numbers, ai: number, as: number, b: Numbers, bi: number, bs: number, n: number) => void;

function compare(operation: string, kernel: CompareKernel, left: Comparable, right: Comparable): Tensor<'bool'> {
  if (typeof left === 'number' && typeof right === 'number') {
    throw new TensorDTypeError(`${operation}: at least one operand must be a tensor.`);
  }
  const a = operand(left, right, operation);
  const b = operand(right, left, operation);
  const shape = broadcastShapes(a.shape, b.shape);
  const result = Tensor.zeros('bool', shape);
  const plan = planBroadcast(shape, [a.shape, b.shape]);
  const [as, bs] = plan.runStrides as [number, number];
  forEachRun(plan, (o, offsets, n) => kernel(result.data, o, a.data, offsets[0], as, b.data, offsets[1], bs, n));
  return result;
}

const greaterKernel: CompareKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] > b[bi + i * bs] ? 1 : 0;
};
const greaterEqualKernel: CompareKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] >= b[bi + i * bs] ? 1 : 0;
};
const lessKernel: CompareKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] < b[bi + i * bs] ? 1 : 0;
};
const lessEqualKernel: CompareKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] <= b[bi + i * bs] ? 1 : 0;
};
const equalKernel: CompareKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] === b[bi + i * bs] ? 1 : 0;
};

/** a > b */
export function greater(a: Comparable, b: Comparable): Tensor<'bool'> {
  return compare('greater', greaterKernel, a, b);
}
/** a >= b */
export function greaterEqual(a: Comparable, b: Comparable): Tensor<'bool'> {
  return compare('greaterEqual', greaterEqualKernel, a, b);
}
/** a < b */
export function less(a: Comparable, b: Comparable): Tensor<'bool'> {
  return compare('less', lessKernel, a, b);
}
/** a <= b */
export function lessEqual(a: Comparable, b: Comparable): Tensor<'bool'> {
  return compare('lessEqual', lessEqualKernel, a, b);
}
/** a == b */
export function equal(a: Comparable, b: Comparable): Tensor<'bool'> {
  return compare('equal', equalKernel, a, b);
}
