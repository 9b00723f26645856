import { describe, expect, it } from 'vitest';
import { float16ArrayToFloat32, float16BitsToFloat32, float32ArrayToFloat16, float32ToFloat16Bits } from './float16.js';

// Expected bit patterns follow from IEEE 754 binary16 (1 sign, 5 exponent
// bits biased by 15, 10 mantissa bits) with round-to-nearest-even.
describe('float32 -> float16 bits', () => {
  it.each([
    [1.0, 0x3c00],
    [-2.0, 0xc000],
    [65504, 0x7bff], // largest finite half
    [65519.99, 0x7bff], // below the midpoint to infinity
    [65520, 0x7c00], // the midpoint 65504..65536 ties to even = infinity
    [0.1, 0x2e66], // float32 0.1 = 0x3DCCCCCD, mantissa rounds down
    [1 / 3, 0x3555],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even (0)
    [1.5 * 2 ** -25, 0x0001], // above the midpoint
    [1e-8, 0x0000], // below 2^-25
    [1 + 2 ** -11, 0x3c00], // tie between 0x3C00 and 0x3C01 -> even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3C01 and 0x3C02 -> even
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
  ])('%s -> 0x%s', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });
});

describe('float16 bits -> float32', () => {
  it.each([
    [0x3c00, 1],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('0x%s -> %s', (bits, value) => {
    expect(float16BitsToFloat32(bits)).toBe(value);
  });

  it('decodes NaN and negative zero', () => {
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it('round-trips every non-NaN half value exactly, in bulk', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const floats = float16ArrayToFloat32(all);
    const back = float32ArrayToFloat16(floats);
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN) expect(back[h]).toBe(h);
    }
    // NaN payloads survive the bulk path bit for bit.
    const bits = new Uint32Array(floats.buffer);
    expect(bits[0x7c01]).toBe(0x7f802000);
    expect(back[0x7e01]).toBe(0x7e01);
  });

  it('bulk float32 -> float16 agrees with the scalar conversion', () => {
    const values = Float32Array.from([0.1, -3.75, 1e-6, 70000, 2 ** -20, 12345.678]);
    const bulk = float32ArrayToFloat16(values);
    expect(Array.from(bulk)).toEqual(Array.from(values, (v) => float32ToFloat16Bits(v)));
  });
});
