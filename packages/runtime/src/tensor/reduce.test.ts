import { describe, expect, it } from 'vitest';
import { Tensor } from './tensor.js';
import { mean, norm, std, sum, variance } from './reduce.js';
import { fromNested, item, toNested } from './nested.js';

const f = Math.fround;

describe('reductions', () => {
  const t = fromNested([[1, 2], [3, 4]]);

  it('sum and mean over all elements or over dims', () => {
    expect(item(sum(t))).toBe(10);
    expect(sum(t).shape).toEqual([]);
    expect(toNested(sum(t, { dims: 0 }))).toEqual([4, 6]);
    expect(toNested(mean(t, { dims: -1, keepDim: true }))).toEqual([[1.5], [3.5]]);
  });

  it('std is unbiased by default, like torch.std', () => {
    // [1,2,3,4]: mean 2.5, sum of squared deviations 5; 5/3 unbiased, 5/4 biased.
    expect(item(std(t))).toBe(f(Math.sqrt(5 / 3)));
    expect(item(std(t, { correction: 0 }))).toBe(f(Math.sqrt(5 / 4)));
    expect(item(variance(t))).toBe(f(5 / 3));
    expect(item(std(fromNested([7])))).toBeNaN(); // N - 1 = 0, as torch
  });

  it('std over dims 1..ndim-1 with keepdim, as guidance rescaling uses it', () => {
    // Batch 0 holds 0..7, batch 1 holds 0..7 times 2.
    const x = new Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => (i < 8 ? i : 2 * (i - 8))), [2, 2, 2, 2]);
    const s = std(x, { dims: [1, 2, 3], keepDim: true });
    expect(s.shape).toEqual([2, 1, 1, 1]);
    // std of 0..7 (unbiased) = sqrt(42/7) = sqrt(6); doubled values double it.
    expect(Array.from(s.data)).toEqual([f(Math.sqrt(6)), f(2 * Math.sqrt(6))]);
  });

  it('norm is the L2 norm over the chosen dims', () => {
    expect(item(norm(fromNested([3, 4])))).toBe(5);
    expect(toNested(norm(fromNested([[3, 4], [6, 8]]), { dims: [-1], keepDim: true }))).toEqual([[5], [10]]);
  });

  it('rejects a repeated dim', () => {
    expect(() => sum(t, { dims: [1, -1] })).toThrow(/listed twice/);
  });
});
