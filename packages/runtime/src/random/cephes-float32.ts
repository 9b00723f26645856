/**
 * Single-lane float32 emulation of `log256_ps` and `sincos256_ps` from
 * PyTorch's ATen/native/cpu/avx_mathfun.h (Cephes polynomials, by way of
 * Julien Pommier's sse_mathfun), which torch.randn's AVX2 kernel uses for
 * Box-Muller. Every operation is rounded to float32 (Math.fround).
 *
 * PyTorch builds differ in one respect: whether the compiler contracted the
 * kernel's multiply-then-add pairs into FMA instructions. With `fused`
 * false every multiply and add rounds separately (the instruction sequence
 * as written; this reproduces published torch outputs, see the tests).
 * With `fused` true these pairs round once (fmaf), as reported for GCC
 * builds with -ffp-contract=fast:
 * - each Horner step `y = y * x + p`;
 * - in log: `y*z + e*q1` fuses the y*z product (e*q1 is rounded first),
 *   and `x + e*q2`;
 * - in sincos: the three range-reduction steps `x + y*(-DPi)`, the cosine
 *   polynomial's `y*z - z*0.5` (fusing the y*z product) and the sine
 *   polynomial's `y*x + x`.
 * The two variants differ by one ulp in about 1% of normal samples. Neither
 * is libm-accurate (about 1 ulp); bit-identity with PyTorch is the point.
 */
import { fmaf } from '../tensor/fma.js';

const f = Math.fround;

/** a * b + c, rounded once when `fused`, twice otherwise. */
function mulAdd(a: number, b: number, c: number, fused: boolean): number {
  return fused ? fmaf(a, b, c) : f(f(a * b) + c);
}

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

const MIN_NORM_POS = f(1.1754943508222875e-38);
const SQRTHF = f(0.707106781186547524);
const LOG_P0 = f(7.0376836292e-2);
const LOG_P1 = f(-1.151461031e-1);
const LOG_P2 = f(1.167699874e-1);
const LOG_P3 = f(-1.2420140846e-1);
const LOG_P4 = f(1.4249322787e-1);
const LOG_P5 = f(-1.6668057665e-1);
const LOG_P6 = f(2.0000714765e-1);
const LOG_P7 = f(-2.4999993993e-1);
const LOG_P8 = f(3.3333331174e-1);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

/** Natural log of a positive float32, as log256_ps computes it (NaN for x <= 0). */
export function cephesLogf(value: number, fused: boolean): number {
  if (!(value > 0)) return NaN;
  asFloat[0] = value < MIN_NORM_POS ? MIN_NORM_POS : value;
  const exponent = (bits[0] >>> 23) - 0x7f;
  // Keep the mantissa, force the exponent of 0.5: x in [0.5, 1).
  bits[0] = (bits[0] & ~0x7f800000) | 0x3f000000;
  let x = asFloat[0];
  let e = f(exponent + 1);
  if (x < SQRTHF) {
    e = f(e - 1);
    x = f(f(x - 1) + x);
  } else {
    x = f(x - 1);
  }
  const z = f(x * x);
  let y = mulAdd(LOG_P0, x, LOG_P1, fused);
  y = mulAdd(y, x, LOG_P2, fused);
  y = mulAdd(y, x, LOG_P3, fused);
  y = mulAdd(y, x, LOG_P4, fused);
  y = mulAdd(y, x, LOG_P5, fused);
  y = mulAdd(y, x, LOG_P6, fused);
  y = mulAdd(y, x, LOG_P7, fused);
  y = mulAdd(y, x, LOG_P8, fused);
  y = f(y * x);
  y = mulAdd(y, z, f(e * LOG_Q1), fused);
  y = f(y - z * 0.5);
  x = f(x + y);
  return mulAdd(e, LOG_Q2, x, fused);
}

const FOPI = f(1.27323954473516);
const MINUS_DP1 = f(-0.78515625);
const MINUS_DP2 = f(-2.4187564849853515625e-4);
const MINUS_DP3 = f(-3.77489497744594108e-8);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);

/** Output slots of cephesSincosf: [sin, cos]. */
export type SinCos = [number, number];

/** sin and cos of a float32 angle, as sincos256_ps computes them, into `out`. */
export function cephesSincosf(angle: number, out: SinCos, fused: boolean): SinCos {
  const negative = angle < 0;
  let x = Math.abs(angle);
  // Octant: j = (trunc(x * 4/pi) + 1) & ~1.
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  const flipSin = (j & 4) !== 0 !== negative;
  const flipCos = ((j - 2) & 4) === 0;
  const sinFromSinePoly = (j & 2) === 0;
  x = mulAdd(y, MINUS_DP1, x, fused);
  x = mulAdd(y, MINUS_DP2, x, fused);
  x = mulAdd(y, MINUS_DP3, x, fused);
  const z = f(x * x);
  let c = mulAdd(COS_P0, z, COS_P1, fused);
  c = mulAdd(c, z, COS_P2, fused);
  c = f(c * z);
  c = mulAdd(c, z, -f(z * 0.5), fused);
  c = f(c + 1);
  let s = mulAdd(SIN_P0, z, SIN_P1, fused);
  s = mulAdd(s, z, SIN_P2, fused);
  s = f(s * z);
  s = mulAdd(s, x, x, fused);
  const sine = sinFromSinePoly ? s : c;
  const cosine = sinFromSinePoly ? c : s;
  out[0] = flipSin ? -sine : sine;
  out[1] = flipCos ? -cosine : cosine;
  return out;
}
