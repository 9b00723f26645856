import { describe, expect, it } from 'vitest';
import { Generator } from './generator.js';
import { randnTensor } from './randn-tensor.js';

describe('randnTensor (diffusers randn_tensor)', () => {
  it('draws the whole tensor from a single generator', () => {
    const a = randnTensor([2, 4, 8, 8], { generator: new Generator(7) });
    expect(Array.from(a.data)).toEqual(Array.from(new Generator(7).randn([2, 4, 8, 8]).data));
    const single = randnTensor([2, 4, 8, 8], { generator: [new Generator(7)] });
    expect(Array.from(single.data)).toEqual(Array.from(a.data));
  });

  it('draws batch item i from generator i with batch size 1', () => {
    const out = randnTensor([2, 4, 8, 8], { generator: [new Generator(1), new Generator(2)] });
    expect(out.shape).toEqual([2, 4, 8, 8]);
    expect(Array.from(out.data.subarray(0, 256))).toEqual(Array.from(new Generator(1).randn([1, 4, 8, 8]).data));
    expect(Array.from(out.data.subarray(256))).toEqual(Array.from(new Generator(2).randn([1, 4, 8, 8]).data));
  });

  it('needs one generator per batch item', () => {
    expect(() => randnTensor([3, 4], { generator: [new Generator(1), new Generator(2)] })).toThrow(/one generator per batch item/);
  });

  it('falls back to a freshly seeded generator', () => {
    expect(randnTensor([2, 3]).shape).toEqual([2, 3]);
  });
});
