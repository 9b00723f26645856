/**
 * Reductions over all elements or over chosen dims, as the guiders need
 * them (e.g. torch's `x.std(dim=list(range(1, x.ndim)), keepdim=True)` is
 * `std(x, { dims: [1, 2, 3], keepDim: true })`).
 *
 * Sums are accumulated in float64 and the result rounded to float32 once;
 * std/variance use the two-pass formula sum((x - mean)^2) / (N - correction).
 * PyTorch accumulates in float32 (cascaded), so its last bit can differ;
 * ours is the correctly rounded value or within an ulp of it.
 */
import { Tensor, TensorShapeError, expectDType } from './tensor.js';
import { forEachRun, planBroadcast } from './broadcast.js';
import { normalizeAxis } from './axis.js';

export interface ReduceOptions {
  /** Dims to reduce (negative allowed); all dims when omitted. */
  dims?: number | readonly number[];
  /** Keep reduced dims as size 1 (torch keepdim). Default false. */
  keepDim?: boolean;
}

export interface VarianceOptions extends ReduceOptions {
  /** Bessel correction subtracted from N; torch's default is 1 (unbiased). */
  correction?: number;
}

interface Layout {
  keptShape: number[];
  outShape: number[];
  count: number;
  outSize: number;
}

function layout(t: Tensor, options: ReduceOptions, operation: string): Layout {
  const dims =
    options.dims === undefined ? t.shape.map((_, i) => i) : typeof options.dims === 'number' ? [options.dims] : [...options.dims];
  const reduced = new Set<number>();
  for (const d of dims) {
    const a = normalizeAxis(d, t.rank, operation);
    if (reduced.has(a)) throw new TensorShapeError(`${operation}: dim ${d} is listed twice.`);
    reduced.add(a);
  }
  const keptShape = t.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const outShape = options.keepDim ? keptShape : t.shape.filter((_, i) => !reduced.has(i));
  let count = 1;
  for (const a of reduced) count *= t.shape[a];
  return { keptShape, outShape, count, outSize: keptShape.reduce((x, y) => x * y, 1) };
}

/** Calls the accumulator for every run of input elements with its output slot. */
function accumulate(
  t: Tensor<'float32'>,
  keptShape: readonly number[],
  visit: (inOffset: number, outOffset: number, outStride: number, n: number) => void,
): void {
  const plan = planBroadcast(t.shape, [keptShape]);
  const outStride = plan.runStrides[0];
  forEachRun(plan, (inOffset, offsets, n) => visit(inOffset, offsets[0], outStride, n));
}

function sums(t: Tensor<'float32'>, keptShape: readonly number[], outSize: number, squared: boolean): Float64Array {
  const acc = new Float64Array(outSize);
  const x = t.data;
  accumulate(t, keptShape, (i0, o0, os, n) => {
    if (os === 0) {
      let s = 0;
      if (squared) for (let i = 0; i < n; i++) s += x[i0 + i] * x[i0 + i];
      else for (let i = 0; i < n; i++) s += x[i0 + i];
      acc[o0] += s;
    } else if (squared) for (let i = 0; i < n; i++) acc[o0 + i] += x[i0 + i] * x[i0 + i];
    else for (let i = 0; i < n; i++) acc[o0 + i] += x[i0 + i];
  });
  return acc;
}

function result(values: Float64Array, shape: number[]): Tensor<'float32'> {
  return new Tensor('float32', Float32Array.from(values), shape);
}

/** Sum of elements. */
export function sum(t: Tensor<'float32'>, options: ReduceOptions = {}): Tensor<'float32'> {
  expectDType(t, ['float32'], 'sum');
  const { keptShape, outShape, outSize } = layout(t, options, 'sum');
  return result(sums(t, keptShape, outSize, false), outShape);
}

/** Arithmetic mean; NaN over zero elements, like torch. */
export function mean(t: Tensor<'float32'>, options: ReduceOptions = {}): Tensor<'float32'> {
  expectDType(t, ['float32'], 'mean');
  const { keptShape, outShape, outSize, count } = layout(t, options, 'mean');
  const acc = sums(t, keptShape, outSize, false);
  for (let i = 0; i < acc.length; i++) acc[i] /= count;
  return result(acc, outShape);
}

function varianceValues(t: Tensor<'float32'>, options: VarianceOptions, operation: string): { values: Float64Array; shape: number[] } {
  expectDType(t, ['float32'], operation);
  const { keptShape, outShape, outSize, count } = layout(t, options, operation);
  const means = sums(t, keptShape, outSize, false);
  for (let i = 0; i < means.length; i++) means[i] /= count;
  const squares = new Float64Array(outSize);
  const x = t.data;
  accumulate(t, keptShape, (i0, o0, os, n) => {
    if (os === 0) {
      const m = means[o0];
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = x[i0 + i] - m;
        s += d * d;
      }
      squares[o0] += s;
    } else {
      for (let i = 0; i < n; i++) {
        const d = x[i0 + i] - means[o0 + i];
        squares[o0 + i] += d * d;
      }
    }
  });
  // torch divides by max(0, N - correction): 0/0 gives NaN, x/0 gives Infinity.
  const divisor = Math.max(0, count - (options.correction ?? 1));
  for (let i = 0; i < squares.length; i++) squares[i] /= divisor;
  return { values: squares, shape: outShape };
}

/** Variance with Bessel correction (default 1, unbiased). */
export function variance(t: Tensor<'float32'>, options: VarianceOptions = {}): Tensor<'float32'> {
  const { values, shape } = varianceValues(t, options, 'variance');
  return result(values, shape);
}

/** Standard deviation with Bessel correction (default 1, unbiased), like torch.std. */
export function std(t: Tensor<'float32'>, options: VarianceOptions = {}): Tensor<'float32'> {
  const { values, shape } = varianceValues(t, options, 'std');
  for (let i = 0; i < values.length; i++) values[i] = Math.sqrt(values[i]);
  return result(values, shape);
}

/** Euclidean (L2 / Frobenius) norm, like torch.linalg.vector_norm / Tensor.norm(p=2). */
export function norm(t: Tensor<'float32'>, options: ReduceOptions = {}): Tensor<'float32'> {
  expectDType(t, ['float32'], 'norm');
  const { keptShape, outShape, outSize } = layout(t, options, 'norm');
  const acc = sums(t, keptShape, outSize, true);
  for (let i = 0; i < acc.length; i++) acc[i] = Math.sqrt(acc[i]);
  return result(acc, outShape);
}
