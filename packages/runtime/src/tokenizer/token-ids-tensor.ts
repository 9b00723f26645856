import { Tensor } from '../tensor/tensor.js';
import { TokenizerInputError } from './tokenizer-errors.js';

/**
 * Rows of token ids (ClipEncoding.inputIds or attentionMask) as a
 * [batch, length] integer tensor, the layout CLIP text encoders take.
 * ONNX exports differ: Optimum's SDXL text encoders take int32, others int64.
 */
export function tokenIdsToTensor(rows: readonly (readonly number[])[], dtype: 'int32' | 'int64' = 'int64'): Tensor<'int32' | 'int64'> {
  const length = rows[0]?.length ?? 0;
  rows.forEach((row, i) => {
    if (row.length !== length) {
      throw new TokenizerInputError(
        `Row ${i} has ${row.length} ids but row 0 has ${length}; encode with padding 'max_length' or 'longest' to get a tensor.`,
      );
    }
  });
  const flat = rows.flat();
  if (dtype === 'int32') return new Tensor('int32', Int32Array.from(flat), [rows.length, length]);
  return new Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), [rows.length, length]);
}
