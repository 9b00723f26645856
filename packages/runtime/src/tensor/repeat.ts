/**
 * Repetition, with PyTorch's two different meanings named apart:
 * - repeatInterleave(t, n, axis): each slice n times in a row,
 *   [a, b] -> [a, a, b, b] (torch.repeat_interleave). This is what
 *   num_images_per_prompt does to prompt embeddings.
 * - repeat(t, reps) / repeatBatch(t, n): the whole tensor tiled,
 *   [a, b] -> [a, b, a, b] (torch.Tensor.repeat, numpy.tile).
 * - expandBatch(t, n): a batch of 1 broadcast to n (torch .expand +
 *   .contiguous()).
 */
import { Tensor, TensorShapeError, allocateData, type DType, type TensorData } from './tensor.js';
import { normalizeAxis, product } from './axis.js';
import { copyBlock, storage } from './copy-blocks.js';

function checkCount(n: number, operation: string): void {
  if (!Number.isInteger(n) || n < 0) throw new TensorShapeError(`${operation}: the repeat count must be a non-negative integer, got ${n}.`);
}

/** Each slice along `axis` repeated `repeats` times consecutively. */
export function repeatInterleave<D extends DType>(t: Tensor<D>, repeats: number, axis = 0): Tensor<D> {
  checkCount(repeats, 'repeatInterleave');
  const a = normalizeAxis(axis, t.rank, 'repeatInterleave');
  const dim = t.shape[a];
  const outer = product(t.shape, 0, a);
  const inner = product(t.shape, a + 1);
  const shape = [...t.shape];
  shape[a] = dim * repeats;
  const out = allocateData(t.dtype, outer * dim * repeats * inner);
  const target = storage(out);
  const source = storage(t.data);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < dim; j++) {
      const from = (o * dim + j) * inner;
      for (let r = 0; r < repeats; r++) {
        copyBlock(target, to, source, from, inner);
        to += inner;
      }
    }
  }
  return new Tensor(t.dtype, out as TensorData<D>, shape);
}

/** Tiles the whole tensor `times` times along one axis. */
function tileAxis<D extends DType>(t: Tensor<D>, times: number, a: number): Tensor<D> {
  const outer = product(t.shape, 0, a);
  const block = product(t.shape, a);
  const shape = [...t.shape];
  shape[a] *= times;
  const out = allocateData(t.dtype, outer * block * times);
  const target = storage(out);
  const source = storage(t.data);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < times; r++) {
      copyBlock(target, to, source, o * block, block);
      to += block;
    }
  }
  return new Tensor(t.dtype, out as TensorData<D>, shape);
}

/**
 * torch.Tensor.repeat(*reps): `reps` has one count per dim, or more (extra
 * leading counts add leading dims). Always copies.
 */
export function repeat<D extends DType>(t: Tensor<D>, reps: readonly number[]): Tensor<D> {
  if (reps.length < t.rank) {
    throw new TensorShapeError(`repeat: ${reps.length} counts given for a tensor of rank ${t.rank}; give at least one per dimension.`);
  }
  reps.forEach((n) => checkCount(n, 'repeat'));
  let result: Tensor<D> = t.reshape([...new Array<number>(reps.length - t.rank).fill(1), ...t.shape]);
  let copied = false;
  for (let a = 0; a < reps.length; a++) {
    if (reps[a] === 1) continue;
    result = tileAxis(result, reps[a], a);
    copied = true;
  }
  return copied ? result : result.clone();
}

/** The whole batch repeated `times` times along axis 0: cat([t] * times). */
export function repeatBatch<D extends DType>(t: Tensor<D>, times: number): Tensor<D> {
  checkCount(times, 'repeatBatch');
  if (t.rank === 0) throw new TensorShapeError('repeatBatch needs a tensor with a batch axis.');
  return tileAxis(t, times, 0);
}

/**
 * A batch of one broadcast to `batch` items; a tensor that already has
 * `batch` items is returned as is.
 */
export function expandBatch<D extends DType>(t: Tensor<D>, batch: number): Tensor<D> {
  checkCount(batch, 'expandBatch');
  if (t.rank === 0) throw new TensorShapeError('expandBatch needs a tensor with a batch axis.');
  const current = t.shape[0];
  if (current === batch) return t;
  if (current !== 1) {
    throw new TensorShapeError(
      `expandBatch: cannot expand a batch of ${current} to ${batch}; only a batch of 1 expands. Use repeatBatch or repeatInterleave for whole multiples.`,
    );
  }
  return tileAxis(t, batch, 0);
}
