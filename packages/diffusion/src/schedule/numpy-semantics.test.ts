import { describe, expect, it } from 'vitest';
import { arange, interpOnIndexGrid, linspace, roundHalfEven, torchLinspaceFloat32 } from './numpy-semantics.js';

describe('numpy/torch semantics', () => {
  it('rounds halves to even like numpy and Python', () => {
    // np.round([0.5, 1.5, 2.5, -0.5, -2.5, 2.6, 499.5]) = [0, 2, 2, -0, -2, 3, 500]
    expect([0.5, 1.5, 2.5, -2.5, 2.6, 499.5, 249.75].map(roundHalfEven)).toEqual([0, 2, 2, -2, 3, 500, 250]);
  });

  it('linspace keeps both endpoints exactly', () => {
    const v = linspace(0, 999, 25);
    expect(v[0]).toBe(0);
    expect(v[24]).toBe(999);
    expect(v[1]).toBeCloseTo(41.625, 12); // 999 / 24
    expect(Array.from(linspace(3, 7, 1))).toEqual([3]);
  });

  it('arange fixes its length from (stop - start) / step', () => {
    // np.arange(1000, 0, -1000/3) -> [1000, 666.67, 333.33]
    const v = arange(1000, 0, -1000 / 3);
    expect(v.length).toBe(3);
    expect(v[1]).toBeCloseTo(666.6667, 3);
    expect(arange(1000, 0, -40).length).toBe(25);
  });

  it('torch float32 linspace stays within one float32 ulp of the exact line', () => {
    const start = Math.sqrt(0.00085);
    const end = Math.sqrt(0.012);
    const v = torchLinspaceFloat32(start, end, 1000);
    for (let i = 0; i < 1000; i++) {
      const exact = start + (i / 999) * (end - start);
      expect(Math.abs(v[i] - exact)).toBeLessThanOrEqual(2 ** -23 * Math.abs(exact) * 2);
    }
    expect(v[0]).toBe(Math.fround(start));
    expect(v[999]).toBe(Math.fround(end));
  });

  it('interpolates on the integer grid and clamps at the ends', () => {
    const fp = [0, 10, 30];
    expect(interpOnIndexGrid(0.25, fp)).toBe(2.5);
    expect(interpOnIndexGrid(1.5, fp)).toBe(20);
    expect(interpOnIndexGrid(-1, fp)).toBe(0);
    expect(interpOnIndexGrid(7, fp)).toBe(30);
  });
});
