/**
 * Shape-only operations. They return views sharing the source's data (no
 * copy), like their PyTorch namesakes on contiguous tensors.
 */
import { Tensor, TensorShapeError, sizeOf, type DType } from './tensor.js';
import { normalizeAxis } from './axis.js';

/**
 * New shape over the same data; one dimension may be -1 and is inferred,
 * as in torch.reshape.
 */
export function reshape<D extends DType>(t: Tensor<D>, shape: readonly number[]): Tensor<D> {
  const inferred = shape.indexOf(-1);
  if (inferred !== shape.lastIndexOf(-1)) {
    throw new TensorShapeError(`reshape: only one dimension can be -1, got [${shape.join(', ')}].`);
  }
  if (inferred === -1) return t.reshape(shape);
  const known = sizeOf(shape.filter((_, i) => i !== inferred));
  if (known === 0 || t.size % known !== 0) {
    throw new TensorShapeError(`reshape: cannot infer -1 in [${shape.join(', ')}] for ${t.size} elements.`);
  }
  const resolved = [...shape];
  resolved[inferred] = t.size / known;
  return t.reshape(resolved);
}

/** Removes `axis` (which must have size 1) or, without an axis, every size-1 dim. */
export function squeeze<D extends DType>(t: Tensor<D>, axis?: number): Tensor<D> {
  if (axis === undefined) return t.reshape(t.shape.filter((d) => d !== 1));
  const a = normalizeAxis(axis, t.rank, 'squeeze');
  // torch.squeeze(dim) leaves a dim that is not 1 untouched.
  if (t.shape[a] !== 1) return t;
  return t.reshape(t.shape.filter((_, i) => i !== a));
}

/** Inserts a size-1 dim at `axis` (in [-rank-1, rank]). */
export function unsqueeze<D extends DType>(t: Tensor<D>, axis: number): Tensor<D> {
  const a = normalizeAxis(axis, t.rank + 1, 'unsqueeze');
  const shape = [...t.shape];
  shape.splice(a, 0, 1);
  return t.reshape(shape);
}

/** Merges dims startAxis..endAxis (inclusive) into one, like torch.flatten. */
export function flatten<D extends DType>(t: Tensor<D>, startAxis = 0, endAxis = -1): Tensor<D> {
  if (t.rank === 0) return t.reshape([1]);
  const start = normalizeAxis(startAxis, t.rank, 'flatten');
  const end = normalizeAxis(endAxis, t.rank, 'flatten');
  if (end < start) throw new TensorShapeError(`flatten: endAxis ${endAxis} comes before startAxis ${startAxis}.`);
  const merged = t.shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
  return t.reshape([...t.shape.slice(0, start), merged, ...t.shape.slice(end + 1)]);
}
