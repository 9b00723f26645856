/**
 * Exact float32 fused multiply-add, `fmaf(a, b, c) = round32(a * b + c)`
 * with a single rounding, for float32 inputs.
 *
 * Why it is exact: the product of two float32 values has at most 48
 * significant bits, so `a * b` is exact in a double. The double sum
 * `s = p + c` is rounded once; rounding `s` again to float32 can only go
 * wrong when `s` lands exactly on a midpoint between two float32 values
 * while the true sum is not that midpoint. That case is detected (the
 * neighbour `r + 2(s - r)` is itself a float32) and resolved with the exact
 * rounding error of the double sum (Knuth's TwoSum).
 *
 * Used where PyTorch's compiled kernels contract a multiply and an add
 * into one FMA instruction, so our float32 results keep the same bits.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (r === s) return r;
  const d = s - r;
  const neighbour = r + 2 * d;
  if (Math.fround(neighbour) !== neighbour) return r;
  // s is a float32 midpoint: the sign of the lost error decides the side.
  const bb = s - p;
  const error = p - (s - bb) + (c - bb);
  if (error === 0) return r;
  return error > 0 === d > 0 ? neighbour : r;
}
