/**
 * torch.split and torch.chunk. Along axis 0 the pieces are views sharing
 * the source's data (see slice.ts).
 */
import { TensorShapeError, type DType, type Tensor } from './tensor.js';
import { normalizeAxis } from './axis.js';
import { slice } from './slice.js';

/**
 * Splits into pieces of `size` elements along `axis` (the last may be
 * smaller), or into pieces of the listed sizes, which must sum to the dim.
 */
export function split<D extends DType>(t: Tensor<D>, size: number | readonly number[], axis = 0): Tensor<D>[] {
  const a = normalizeAxis(axis, t.rank, 'split');
  const dim = t.shape[a];
  let sizes: number[];
  if (typeof size === 'number') {
    if (!Number.isInteger(size) || size <= 0) throw new TensorShapeError(`split: size must be a positive integer, got ${size}.`);
    sizes = [];
    for (let start = 0; start < dim; start += size) sizes.push(Math.min(size, dim - start));
  } else {
    sizes = [...size];
    const total = sizes.reduce((x, y) => x + y, 0);
    if (total !== dim || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new TensorShapeError(`split: sizes [${sizes.join(', ')}] must be non-negative and sum to ${dim}, the size of axis ${axis}.`);
    }
  }
  const pieces: Tensor<D>[] = [];
  let start = 0;
  for (const s of sizes) {
    pieces.push(slice(t, start, start + s, a));
    start += s;
  }
  return pieces;
}

/**
 * Splits into `chunks` pieces of ceil(dim / chunks) elements along `axis`,
 * like torch.chunk (which may return fewer pieces when dim is small).
 * `chunk(noisePred, 2)` separates the unconditional and conditional halves
 * of a classifier-free-guidance batch.
 */
export function chunk<D extends DType>(t: Tensor<D>, chunks: number, axis = 0): Tensor<D>[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new TensorShapeError(`chunk: chunks must be a positive integer, got ${chunks}.`);
  const a = normalizeAxis(axis, t.rank, 'chunk');
  const dim = t.shape[a];
  if (dim === 0) return [t];
  return split(t, Math.ceil(dim / chunks), a);
}
