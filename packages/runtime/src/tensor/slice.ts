/**
 * Slicing along one axis. Along axis 0 (the batch) the result is a view
 * sharing the source's data, as in PyTorch; along other axes it is a copy
 * (our tensors are always contiguous). Call `.clone()` on a view before
 * writing to it if the source must stay untouched.
 */
import { Tensor, TensorShapeError, allocateData, type DType, type TensorData } from './tensor.js';
import { normalizeAxis, product } from './axis.js';
import { copyBlock, storage } from './copy-blocks.js';

function clampIndex(index: number, dim: number): number {
  const resolved = index < 0 ? index + dim : index;
  return Math.min(Math.max(resolved, 0), dim);
}

/**
 * Elements start..end (end exclusive) along `axis`, Python-style: negative
 * indices count from the end and out-of-range bounds are clamped.
 */
export function slice<D extends DType>(t: Tensor<D>, start: number, end = Infinity, axis = 0): Tensor<D> {
  const a = normalizeAxis(axis, t.rank, 'slice');
  const dim = t.shape[a];
  const from = clampIndex(start, dim);
  const to = Math.max(from, clampIndex(end, dim));
  const shape = [...t.shape];
  shape[a] = to - from;
  const inner = product(t.shape, a + 1);
  if (a === 0) {
    const view = storage(t.data).subarray(from * inner, to * inner);
    return new Tensor(t.dtype, view as unknown as TensorData<D>, shape);
  }
  const outer = product(t.shape, 0, a);
  const block = (to - from) * inner;
  const out = allocateData(t.dtype, outer * block);
  const target = storage(out);
  const source = storage(t.data);
  for (let o = 0; o < outer; o++) copyBlock(target, o * block, source, (o * dim + from) * inner, block);
  return new Tensor(t.dtype, out as TensorData<D>, shape);
}

/** The sub-tensor at `index` along `axis`, with that axis removed (t[i] for axis 0). */
export function select<D extends DType>(t: Tensor<D>, index: number, axis = 0): Tensor<D> {
  const a = normalizeAxis(axis, t.rank, 'select');
  const dim = t.shape[a];
  const i = index < 0 ? index + dim : index;
  if (!Number.isInteger(index) || i < 0 || i >= dim) {
    throw new TensorShapeError(`select: index ${index} is out of range for axis ${axis} of size ${dim}.`);
  }
  const picked = slice(t, i, i + 1, a);
  return picked.reshape(t.shape.filter((_, k) => k !== a));
}
