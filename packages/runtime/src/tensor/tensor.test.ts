import { describe, expect, it } from 'vitest';
import { Tensor, TensorShapeError } from './tensor.js';

describe('Tensor', () => {
  it('checks that the data matches the shape', () => {
    expect(() => new Tensor('float32', new Float32Array(5), [2, 3])).toThrow(TensorShapeError);
    expect(new Tensor('float32', new Float32Array(6), [2, 3]).size).toBe(6);
  });
  it('rejects a typed array of the wrong kind', () => {
    expect(() => new Tensor('int64', new Float32Array(2) as never, [2])).toThrow(/BigInt64Array/);
  });
});
