/**
 * IEEE 754 binary16 <-> binary32 conversion, bit-exact.
 *
 * float32 -> float16 rounds to nearest, ties to even, exactly like a
 * hardware F16C `vcvtps2ph` (and torch's `.half()`): values at or above
 * 65520 become infinity, values at or below 2^-25 become a signed zero,
 * values in between fall onto the subnormal grid (multiples of 2^-24).
 * NaN stays NaN (quiet bit set, top payload bits kept).
 *
 * float16 -> float32 is exact; the bulk path reads a 65536-entry table of
 * float32 bit patterns so NaN payloads survive.
 */

// Module-level scratch views: reading float bits without allocating per value.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Rounds float32 bit pattern `bits` to the nearest float16 bit pattern. */
function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  // Exponent re-biased from 127 to 15.
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = significand * 2^(exponent - 150) = q * 2^-24.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let q = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (q & 1) === 1)) q++;
    return sign | q;
  }
  let q = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (q & 1) === 1)) q++;
  return sign | q;
}

/** Exact float32 bit pattern of float16 bit pattern `half`. */
function floatBitsFromHalf(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: normalise the mantissa into a float32 exponent.
  let e = 113;
  let m = mantissa;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** float16 bit pattern nearest to `value` (after rounding `value` to float32). */
export function float32ToFloat16Bits(value: number): number {
  scratchF32[0] = value;
  return halfFromFloatBits(scratchU32[0]);
}

/** The float32 value of float16 bit pattern `bits` (0..65535). */
export function float16BitsToFloat32(bits: number): number {
  scratchU32[0] = floatBitsFromHalf(bits & 0xffff);
  return scratchF32[0];
}

let halfToFloatTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (!halfToFloatTable) {
    halfToFloatTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfToFloatTable[h] = floatBitsFromHalf(h);
  }
  return halfToFloatTable;
}

/** Converts a whole Float32Array to float16 bits (into `out` when given). */
export function float32ArrayToFloat16(source: Float32Array, out?: Uint16Array): Uint16Array {
  const target = out ?? new Uint16Array(source.length);
  if (target.length !== source.length) {
    throw new RangeError(`float32ArrayToFloat16: output has ${target.length} elements, source has ${source.length}.`);
  }
  const bits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  for (let i = 0; i < bits.length; i++) target[i] = halfFromFloatBits(bits[i]);
  return target;
}

/** Converts float16 bits to a Float32Array (into `out` when given), exactly. */
export function float16ArrayToFloat32(source: Uint16Array, out?: Float32Array): Float32Array {
  const target = out ?? new Float32Array(source.length);
  if (target.length !== source.length) {
    throw new RangeError(`float16ArrayToFloat32: output has ${target.length} elements, source has ${source.length}.`);
  }
  const lookup = table();
  const bits = new Uint32Array(target.buffer, target.byteOffset, target.length);
  for (let i = 0; i < source.length; i++) bits[i] = lookup[source[i]];
  return target;
}
