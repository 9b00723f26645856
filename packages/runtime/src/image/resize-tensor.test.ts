import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { ImageInputError } from './image-errors.js';
import { resizeTensor } from './resize-tensor.js';

const row = (values: number[]) => Tensor.float32(values, [1, 1, 1, values.length]);

describe('resizeTensor (F.interpolate, mode "nearest")', () => {
  it('reads input index floor(i * in / out), unlike PIL', () => {
    // 4 -> 2: indices 0, 2 (PIL's centre sampling would read 1, 3).
    expect(Array.from(resizeTensor(row([0, 1, 2, 3]), 1, 2).data)).toEqual([0, 2]);
    // 3 -> 2: scale 1.5, indices 0, floor(1.5) = 1.
    expect(Array.from(resizeTensor(row([5, 6, 7]), 1, 2).data)).toEqual([5, 6]);
    // 2 -> 3: scale float32(2/3), indices 0, floor(0.67) = 0, floor(1.33) = 1.
    expect(Array.from(resizeTensor(row([5, 6]), 1, 3).data)).toEqual([5, 5, 6]);
  });

  it('resizes every plane of every batch item in both directions', () => {
    const t = Tensor.float32([1, 2, 3, 4, 10, 20, 30, 40], [2, 1, 2, 2]);
    const big = resizeTensor(t, 4, 4);
    expect(big.shape).toEqual([2, 1, 4, 4]);
    expect(Array.from(big.data.slice(0, 16))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(big.data.slice(16, 20))).toEqual([10, 10, 20, 20]);
  });

  it('copies when the size is unchanged and rejects other layouts', () => {
    const t = row([1, 2]);
    const same = resizeTensor(t, 1, 2);
    expect(same).not.toBe(t);
    expect(Array.from(same.data)).toEqual([1, 2]);
    expect(() => resizeTensor(Tensor.float32([1, 2]), 1, 2)).toThrow(ImageInputError);
  });
});
