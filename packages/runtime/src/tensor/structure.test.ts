import { describe, expect, it } from 'vitest';
import { Tensor, TensorShapeError } from './tensor.js';
import { concat, stack } from './concat.js';
import { chunk, split } from './split.js';
import { select, slice } from './slice.js';
import { expandBatch, repeat, repeatBatch, repeatInterleave } from './repeat.js';
import { flatten, reshape, squeeze, unsqueeze } from './shape.js';
import { fromNested, item, toNested } from './nested.js';
import { planBroadcast } from './broadcast.js';

const batch = () => fromNested([[1, 2], [3, 4], [5, 6]]); // [3, 2]

describe('concat / stack', () => {
  it('joins along axis 0 and along inner axes', () => {
    expect(toNested(concat([batch(), fromNested([[7, 8]])]))).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
    expect(toNested(concat([batch(), fromNested([[0], [0], [0]])], 1))).toEqual([[1, 2, 0], [3, 4, 0], [5, 6, 0]]);
    expect(toNested(concat([fromNested([1n, 2n], 'int64'), fromNested([3n], 'int64')]))).toEqual([1n, 2n, 3n]);
  });

  it('stacks along a new axis', () => {
    expect(stack([fromNested([1, 2]), fromNested([3, 4])]).shape).toEqual([2, 2]);
    expect(toNested(stack([fromNested([1, 2]), fromNested([3, 4])], -1))).toEqual([[1, 3], [2, 4]]);
  });

  it('rejects mismatched shapes and dtypes', () => {
    expect(() => concat([batch(), fromNested([[1, 2, 3]])])).toThrow(TensorShapeError);
    expect(() => concat([batch(), fromNested([[1, 2]], 'int32') as never])).toThrow(/cast them/);
  });
});

describe('split / chunk / slice / select', () => {
  it('chunk(noise, 2) separates the CFG halves as views along the batch', () => {
    const noise = fromNested([[1, 1], [2, 2], [3, 3], [4, 4]]);
    const [uncond, cond] = chunk(noise, 2);
    expect(toNested(uncond)).toEqual([[1, 1], [2, 2]]);
    expect(toNested(cond)).toEqual([[3, 3], [4, 4]]);
    cond.data[0] = 99; // a view, as in torch
    expect(noise.data[4]).toBe(99);
  });

  it('chunk follows torch sizes: ceil(dim / n), possibly fewer pieces', () => {
    expect(chunk(fromNested([1, 2, 3, 4, 5]), 2).map((t) => toNested(t))).toEqual([[1, 2, 3], [4, 5]]);
    expect(chunk(fromNested([1, 2, 3, 4, 5, 6]), 4).map((t) => t.size)).toEqual([2, 2, 2]);
    expect(chunk(batch(), 2, 1).map((t) => toNested(t))).toEqual([[[1], [3], [5]], [[2], [4], [6]]]);
  });

  it('split by size or by a list of sizes', () => {
    expect(split(fromNested([1, 2, 3, 4, 5]), 2).map((t) => toNested(t))).toEqual([[1, 2], [3, 4], [5]]);
    expect(split(fromNested([1, 2, 3, 4, 5]), [1, 4]).map((t) => t.size)).toEqual([1, 4]);
    expect(() => split(fromNested([1, 2, 3]), [1, 1])).toThrow(/sum to 3/);
  });

  it('slice is Python-like and select drops the axis', () => {
    expect(toNested(slice(batch(), 1))).toEqual([[3, 4], [5, 6]]);
    expect(toNested(slice(batch(), -1))).toEqual([[5, 6]]);
    expect(toNested(slice(batch(), 0, 1, 1))).toEqual([[1], [3], [5]]);
    expect(toNested(select(batch(), 2))).toEqual([5, 6]);
    expect(toNested(select(batch(), -1, 1))).toEqual([2, 4, 6]);
    expect(() => select(batch(), 3)).toThrow(/out of range/);
  });
});

describe('repeat semantics', () => {
  it('repeatInterleave repeats each item in place: [a, b] -> [a, a, b, b]', () => {
    expect(toNested(repeatInterleave(fromNested([[1, 2], [3, 4]]), 2))).toEqual([[1, 2], [1, 2], [3, 4], [3, 4]]);
    expect(toNested(repeatInterleave(fromNested([[1, 2]]), 2, 1))).toEqual([[1, 1, 2, 2]]);
  });

  it('repeatBatch tiles the whole batch: [a, b] -> [a, b, a, b]', () => {
    expect(toNested(repeatBatch(fromNested([[1, 2], [3, 4]]), 2))).toEqual([[1, 2], [3, 4], [1, 2], [3, 4]]);
  });

  it('repeat follows torch.Tensor.repeat, including extra leading dims', () => {
    const t = fromNested([1, 2]);
    expect(toNested(repeat(t, [2, 2]))).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(repeat(fromNested([[1, 2]]), [3, 1, 1]).shape).toEqual([3, 1, 2]);
    const copy = repeat(t, [1]);
    expect(copy.data).not.toBe(t.data);
  });

  it('expandBatch broadcasts a batch of one', () => {
    expect(toNested(expandBatch(fromNested([[1, 2]]), 3))).toEqual([[1, 2], [1, 2], [1, 2]]);
    const two = fromNested([[1], [2]]);
    expect(expandBatch(two, 2)).toBe(two);
    expect(() => expandBatch(two, 4)).toThrow(/only a batch of 1/);
  });
});

describe('reshape family', () => {
  it('reshape infers -1; squeeze/unsqueeze/flatten are views', () => {
    const t = new Tensor('float32', new Float32Array(24), [2, 3, 4]);
    expect(reshape(t, [-1, 4]).shape).toEqual([6, 4]);
    expect(() => reshape(t, [5, -1])).toThrow(TensorShapeError);
    expect(unsqueeze(t, 1).shape).toEqual([2, 1, 3, 4]);
    expect(unsqueeze(t, -1).shape).toEqual([2, 3, 4, 1]);
    expect(squeeze(unsqueeze(t, 0), 0).shape).toEqual([2, 3, 4]);
    expect(squeeze(fromNested([[[1]], [[2]]])).shape).toEqual([2]);
    expect(squeeze(t, 0)).toBe(t); // torch leaves a non-1 dim alone
    expect(flatten(t, 1).shape).toEqual([2, 12]);
    expect(unsqueeze(t, 0).data).toBe(t.data);
    expect(item(fromNested([[3.5]]))).toBe(3.5);
  });
});

describe('broadcast plan', () => {
  it('collapses a [B,1,H,W] mask against [B,C,H,W] into B*C runs of H*W', () => {
    const plan = planBroadcast([2, 4, 8, 8], [[2, 4, 8, 8], [2, 1, 8, 8]]);
    expect(plan.runLength).toBe(64);
    expect(plan.runStrides).toEqual([1, 1]);
    expect(plan.outerShape).toEqual([2, 4]);
    expect(plan.outerStrides).toEqual([[256, 64], [64, 0]]);
    expect(planBroadcast([2, 4, 8, 8], [[2, 4, 8, 8], [2, 4, 8, 8]]).runLength).toBe(512);
  });
});
