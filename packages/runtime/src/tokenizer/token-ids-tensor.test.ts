import { describe, expect, it } from 'vitest';
import { tokenIdsToTensor } from './token-ids-tensor.js';
import { TokenizerInputError } from './tokenizer-errors.js';

describe('tokenIdsToTensor', () => {
  it('packs rows into a [batch, length] tensor of the asked dtype', () => {
    const t64 = tokenIdsToTensor([[5, 6, 7], [8, 9, 0]]);
    expect(t64.dtype).toBe('int64');
    expect(t64.shape).toEqual([2, 3]);
    expect(Array.from(t64.data as BigInt64Array)).toEqual([5n, 6n, 7n, 8n, 9n, 0n]);
    const t32 = tokenIdsToTensor([[49406, 49407]], 'int32');
    expect(Array.from(t32.data as Int32Array)).toEqual([49406, 49407]);
    expect(t32.shape).toEqual([1, 2]);
  });

  it('refuses ragged rows', () => {
    expect(() => tokenIdsToTensor([[1, 2], [3]])).toThrow(TokenizerInputError);
  });
});
