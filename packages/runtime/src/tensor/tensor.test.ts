import { describe, expect, it } from 'vitest';
import { Tensor, TensorShapeError, hasDType } from './tensor.js';

describe('Tensor', () => {
  it('checks that the data matches the shape', () => {
    expect(() => new Tensor('float32', new Float32Array(5), [2, 3])).toThrow(TensorShapeError);
    expect(new Tensor('float32', new Float32Array(6), [2, 3]).size).toBe(6);
  });
  it('rejects a typed array of the wrong kind', () => {
    expect(() => new Tensor('int64', new Float32Array(2) as never, [2])).toThrow(/BigInt64Array/);
  });
  it('narrows a tensor by its dtype, so its data is typed without a cast', () => {
    const half: Tensor = new Tensor('float16', new Uint16Array(2), [2]);
    expect(hasDType(half, 'float32')).toBe(false);
    expect(hasDType(half, 'float16')).toBe(true);
    if (hasDType(half, 'float16')) expect(half.data).toBeInstanceOf(Uint16Array);
  });
});
