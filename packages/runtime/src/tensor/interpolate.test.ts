import { describe, expect, it } from 'vitest';
import { Tensor } from './tensor.js';
import { interpolate } from './interpolate.js';
import { fromNested, toNested } from './nested.js';

const grid = (rows: number[][]) => fromNested([[rows]]);
const plane = (t: Tensor) => (toNested(t) as number[][][][])[0][0];

// Expected values are worked from the formulas in interpolate.ts; they are
// the values torch.nn.functional.interpolate prints for the same inputs.
describe('interpolate', () => {
  it('nearest doubles by repeating (out == 2 * in uses i >> 1)', () => {
    expect(plane(interpolate(grid([[1, 2], [3, 4]]), { size: [4, 4] }))).toEqual([
      [1, 1, 2, 2],
      [1, 1, 2, 2],
      [3, 3, 4, 4],
      [3, 3, 4, 4],
    ]);
  });

  it('nearest and nearest-exact pick floor(i * s) and floor((i + 0.5) * s)', () => {
    const row = grid([[0, 1, 2, 3]]);
    // scale = 4/3: i * s = 0, 1.33, 2.67 -> 0, 1, 2; (i + 0.5) * s = 0.67, 2, 3.33 -> 0, 2, 3.
    expect(plane(interpolate(row, { size: [1, 3] }))).toEqual([[0, 1, 2]]);
    expect(plane(interpolate(row, { size: [1, 3], mode: 'nearest-exact' }))).toEqual([[0, 2, 3]]);
  });

  it('bilinear upsampling with align_corners=False', () => {
    // x = 0.5 * (i + 0.5) - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (edge).
    expect(plane(interpolate(grid([[1, 2], [3, 4]]), { size: [4, 4], mode: 'bilinear' }))).toEqual([
      [1, 1.25, 1.75, 2],
      [1.5, 1.75, 2.25, 2.5],
      [2.5, 2.75, 3.25, 3.5],
      [3, 3.25, 3.75, 4],
    ]);
  });

  it('bilinear downsampling by 2 averages 2x2 blocks (x = 2i + 0.5)', () => {
    const x = new Tensor('float32', Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    expect(plane(interpolate(x, { scaleFactor: 0.5, mode: 'bilinear' }))).toEqual([
      [2.5, 4.5],
      [10.5, 12.5],
    ]);
  });

  it('bilinear with alignCorners maps the corners onto each other', () => {
    expect(plane(interpolate(grid([[1, 2]]), { size: [1, 3], mode: 'bilinear', alignCorners: true }))).toEqual([[1, 1.5, 2]]);
  });

  it('resizes every plane of a batch and checks its arguments', () => {
    const masks = new Tensor('float32', Float32Array.from([1, 0, 0, 1, 0, 1, 1, 0]), [2, 1, 2, 2]);
    const out = interpolate(masks, { scaleFactor: 2 });
    expect(out.shape).toEqual([2, 1, 4, 4]);
    expect(out.data[15]).toBe(1);
    expect(out.data[16]).toBe(0);
    expect(() => interpolate(fromNested([[1, 2]]), { size: [2, 2] })).toThrow(/\[N, C, H, W\]/);
    expect(() => interpolate(masks, {})).toThrow(/exactly one/);
  });
});
