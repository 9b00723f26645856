import { describe, expect, it } from 'vitest';
import { fmaf } from './fma.js';

describe('fmaf', () => {
  it('rounds a*b + c once, even where double rounding would go wrong', () => {
    // a*b = 2^-24 - 2^-70 exactly; exact sum = 1 + 2^-23 + 2^-24 - 2^-70,
    // just below the midpoint between 1 + 2^-23 (odd) and 1 + 2^-22 (even),
    // so the single rounding gives 1 + 2^-23. Rounding to double first lands
    // on the midpoint, and ties-to-even then picks 1 + 2^-22.
    const a = Math.fround(2 ** -24 * (1 + 2 ** -23));
    const b = Math.fround(1 - 2 ** -23);
    const c = Math.fround(1 + 2 ** -23);
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22);
    expect(fmaf(a, b, c)).toBe(1 + 2 ** -23);
  });

  it('agrees with a two-step rounding when no midpoint is involved', () => {
    expect(fmaf(3, 4, 5)).toBe(17);
    const [x, y, z] = [Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)];
    expect(fmaf(x, y, z)).toBe(Math.fround(x * y + z));
  });

  it('resolves an exact midpoint to even', () => {
    // 1 + 2^-24 is exactly halfway between 1 and 1 + 2^-23.
    expect(fmaf(2 ** -12, 2 ** -12, 1)).toBe(1);
    expect(fmaf(2 ** -12, 2 ** -12, 1 + 2 ** -23)).toBe(1 + 2 ** -22);
  });
});
