/** torch.cat and torch.stack for any dtype. */
import { Tensor, TensorDTypeError, TensorShapeError, allocateData, type DType, type TensorData } from './tensor.js';
import { normalizeAxis, product } from './axis.js';
import { copyBlock, storage } from './copy-blocks.js';
import { unsqueeze } from './shape.js';

/** Joins tensors along an existing axis; all other dims must match. */
export function concat<D extends DType>(tensors: readonly Tensor<D>[], axis = 0): Tensor<D> {
  if (tensors.length === 0) throw new TensorShapeError('concat needs at least one tensor.');
  const first = tensors[0];
  const a = normalizeAxis(axis, first.rank, 'concat');
  let total = 0;
  for (const t of tensors) {
    if (t.dtype !== first.dtype) {
      throw new TensorDTypeError(`concat: tensors have dtypes ${first.dtype} and ${t.dtype}; cast them to one dtype first.`);
    }
    const mismatch = t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i]);
    if (mismatch) {
      throw new TensorShapeError(
        `concat along axis ${axis}: shapes [${first.shape.join(', ')}] and [${t.shape.join(', ')}] differ outside that axis.`,
      );
    }
    total += t.shape[a];
  }
  const shape = [...first.shape];
  shape[a] = total;
  const outer = product(first.shape, 0, a);
  const inner = product(first.shape, a + 1);
  const out = allocateData(first.dtype, outer * total * inner);
  const target = storage(out);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of tensors) {
      const block = t.shape[a] * inner;
      copyBlock(target, to, storage(t.data), o * block, block);
      to += block;
    }
  }
  return new Tensor(first.dtype, out as TensorData<D>, shape);
}

/** Joins same-shape tensors along a new axis. */
export function stack<D extends DType>(tensors: readonly Tensor<D>[], axis = 0): Tensor<D> {
  if (tensors.length === 0) throw new TensorShapeError('stack needs at least one tensor.');
  return concat(
    tensors.map((t) => unsqueeze(t, axis)),
    axis,
  );
}
