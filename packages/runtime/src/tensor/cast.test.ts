import { describe, expect, it } from 'vitest';
import { Tensor, TensorDTypeError } from './tensor.js';
import { cast } from './cast.js';
import { fromNested, toNested } from './nested.js';

describe('cast', () => {
  it('bool -> float32 gives 0/1 and float32 -> bool tests != 0', () => {
    expect(toNested(cast(fromNested([1, 0, 1], 'bool'), 'float32'))).toEqual([1, 0, 1]);
    expect(Array.from(cast(fromNested([0, -0, 0.5, NaN]), 'bool').data)).toEqual([0, 0, 1, 1]);
  });

  it('float32 <-> float16 uses round-to-nearest-even bits', () => {
    const half = cast(fromNested([1, 0.1, 65504, 1e-8]), 'float16');
    expect(Array.from(half.data)).toEqual([0x3c00, 0x2e66, 0x7bff, 0]);
    // float16 0x2E66 is 0.0999755859375 exactly.
    expect(toNested(cast(half, 'float32'))).toEqual([1, 0.0999755859375, 65504, 0]);
  });

  it('int32 <-> int64 round-trips and checks range', () => {
    const ids = fromNested([49406, 320, 49407], 'int32');
    const wide = cast(ids, 'int64');
    expect(Array.from(wide.data)).toEqual([49406n, 320n, 49407n]);
    expect(Array.from(cast(wide, 'int32').data)).toEqual([49406, 320, 49407]);
    expect(() => cast(fromNested([2n ** 40n], 'int64'), 'int32')).toThrow(TensorDTypeError);
  });

  it('float -> int truncates toward zero and refuses NaN', () => {
    expect(Array.from(cast(fromNested([1.9, -1.9]), 'int32').data)).toEqual([1, -1]);
    expect(() => cast(fromNested([NaN]), 'int64')).toThrow(/NaN/);
  });

  it('returns the same tensor for its own dtype', () => {
    const t = new Tensor('float32', new Float32Array(2), [2]);
    expect(cast(t, 'float32')).toBe(t);
  });
});
