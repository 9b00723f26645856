import { describe, expect, it } from 'vitest';
import { Tensor, TensorDTypeError, TensorShapeError } from './tensor.js';
import { add, div, maximum, mul, sub } from './elementwise.js';
import { addScaled, addScaledInPlace, scale } from './scale.js';
import { lerp } from './lerp.js';
import { mix } from './mix.js';
import { where } from './where.js';
import { greater, less, equal } from './compare.js';
import { clamp } from './clamp.js';
import { fromNested, toNested } from './nested.js';

const f = Math.fround;

describe('elementwise arithmetic', () => {
  it('adds same-shape tensors with float32 rounding', () => {
    const a = fromNested([0.1, 1]);
    const b = fromNested([0.2, 2]);
    // float32(0.1) + float32(0.2) rounded to float32, as torch computes it.
    expect(toNested(add(a, b))).toEqual([f(f(0.1) + f(0.2)), 3]);
    expect(toNested(sub(a, b))).toEqual([f(f(0.1) - f(0.2)), -1]);
  });

  it('broadcasts scalars on either side', () => {
    const t = fromNested([[1, 2], [3, 4]]);
    expect(toNested(mul(t, 2))).toEqual([[2, 4], [6, 8]]);
    expect(toNested(sub(10, t))).toEqual([[9, 8], [7, 6]]);
    expect(toNested(div(t, 0))).toEqual([[Infinity, Infinity], [Infinity, Infinity]]);
  });

  it('broadcasts a [B,1,H,W] mask against [B,C,H,W] latents', () => {
    const latents = new Tensor('float32', Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i), [2, 3, 2, 2]);
    const mask = fromNested([[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]]);
    const out = mul(latents, mask);
    expect(out.shape).toEqual([2, 3, 2, 2]);
    // element [b,c,h,w] = (b*12 + c*4 + h*2 + w) * mask[b,0,h,w]
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let h = 0; h < 2; h++)
          for (let w = 0; w < 2; w++) {
            const i = b * 12 + c * 4 + h * 2 + w;
            expect(out.data[i]).toBe(i * mask.data[b * 4 + h * 2 + w]);
          }
  });

  it('broadcasts leading and trailing singleton dims', () => {
    const row = fromNested([[1, 2, 3]]); // [1, 3]
    const column = fromNested([[10], [20]]); // [2, 1]
    expect(toNested(add(row, column))).toEqual([[11, 12, 13], [21, 22, 23]]);
    const vector = fromNested([1, 2, 3]); // [3] against [2, 3]
    expect(toNested(add(fromNested([[0, 0, 0], [1, 1, 1]]), vector))).toEqual([[1, 2, 3], [2, 3, 4]]);
  });

  it('writes into `out`, which makes the operation in place', () => {
    const a = fromNested([1, 2, 3]);
    const result = add(a, 1, a);
    expect(result).toBe(a);
    expect(toNested(a)).toEqual([2, 3, 4]);
    expect(() => add(a, fromNested([[1], [2]]), a)).toThrow(TensorShapeError);
  });

  it('rejects incompatible shapes and non-float32 tensors with a clear error', () => {
    expect(() => add(fromNested([1, 2, 3]), fromNested([1, 2]))).toThrow(/cannot be broadcast/);
    expect(() => add(fromNested([1, 2], 'int32') as never, 1)).toThrow(TensorDTypeError);
    expect(() => add(fromNested([1, 2], 'int32') as never, 1)).toThrow(/cast\(tensor, 'float32'\)/);
  });

  it('maximum propagates NaN like torch.maximum', () => {
    expect(toNested(maximum(fromNested([1, NaN, 5]), fromNested([2, 0, 3])))).toEqual([2, NaN, 5]);
  });
});

describe('scale, addScaled, lerp, mix', () => {
  it('addScaled is the classifier-free guidance combine uncond + s * (cond - uncond)', () => {
    const uncond = fromNested([1, 2, 0.1]);
    const cond = fromNested([3, 1, 0.7]);
    const guided = addScaled(uncond, sub(cond, uncond), 7.5);
    // 1 + 7.5*2 = 16; 2 + 7.5*(-1) = -5.5; third element with float32 rounding per step.
    const d = f(f(0.7) - f(0.1));
    expect(toNested(guided)).toEqual([16, -5.5, f(f(0.1) + f(7.5 * d))]);
  });

  it('addScaledInPlace is one Euler step: sample += dt * derivative', () => {
    const sample = fromNested([1, 2]);
    const derivative = fromNested([0.5, -1]);
    addScaledInPlace(sample, derivative, -0.25);
    expect(toNested(sample)).toEqual([0.875, 2.25]);
    expect(toNested(scale(fromNested([1, -2]), 3))).toEqual([3, -6]);
  });

  it('lerp follows torch: exact at both ends, fma on the near side', () => {
    const a = fromNested([f(0.1), 10]);
    const b = fromNested([f(0.7), 20]);
    expect(toNested(lerp(a, b, 0))).toEqual([f(0.1), 10]);
    expect(toNested(lerp(a, b, 1))).toEqual([f(0.7), 20]);
    expect(lerp(a, b, 0.25).data[1]).toBe(12.5);
    expect(toNested(lerp(a, b, fromNested([0.5, 0.75])))).toEqual([f(0.7) - f(f(f(0.7) - f(0.1)) * 0.5), 17.5]);
  });

  it('mix blends by a broadcast mask: (1 - m) * a + m * b', () => {
    const original = fromNested([[[[1, 1], [1, 1]], [[2, 2], [2, 2]]]]); // [1,2,2,2]
    const latents = fromNested([[[[5, 5], [5, 5]], [[6, 6], [6, 6]]]]);
    const mask = fromNested([[[[0, 1], [0.5, 0.25]]]]); // [1,1,2,2]
    const out = mix(original, latents, mask);
    expect(toNested(out)).toEqual([[[[1, 5], [3, 2]], [[2, 6], [4, 3]]]]);
  });
});

describe('where, comparisons, clamp', () => {
  it('greater produces a bool tensor and where picks by it', () => {
    const t = fromNested([-1, 0.5, 2, NaN]);
    const positive = greater(t, 0);
    expect(positive.dtype).toBe('bool');
    expect(Array.from(positive.data)).toEqual([0, 1, 1, 0]); // NaN compares false
    expect(toNested(where(positive, t, 0))).toEqual([0, 0.5, 2, 0]);
    expect(Array.from(less(t, fromNested([0, 0, 3, 0])).data)).toEqual([1, 0, 1, 0]);
    expect(Array.from(equal(fromNested([1, 2], 'int32'), 2).data)).toEqual([0, 1]);
  });

  it('where broadcasts the condition and keeps the dtype of its operands', () => {
    const cond = fromNested([[1], [0]], 'bool');
    const x = fromNested([[1, 2, 3]], 'int32');
    const out = where(cond, x, fromNested([[7, 8, 9]], 'int32'));
    expect(out.dtype).toBe('int32');
    expect(toNested(out)).toEqual([[1, 2, 3], [7, 8, 9]]);
  });

  it('clamp bounds values and keeps NaN', () => {
    expect(toNested(clamp(fromNested([-2, 0.5, 3, NaN]), -1, 1))).toEqual([-1, 0.5, 1, NaN]);
    expect(toNested(clamp(fromNested([-2, 3]), undefined, 0))).toEqual([-2, 0]);
    expect(() => clamp(fromNested([1]))).toThrow(/at least one/);
  });
});
