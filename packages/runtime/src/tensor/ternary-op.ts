/**
 * Runs a kernel over three broadcast operands (where, mix, lerp with a
 * tensor weight). Same run-based iteration as binary-op.ts; the kernel
 * gets a stride of 1 or 0 per operand.
 */
import { forEachRun, planBroadcast } from './broadcast.js';

export type TernaryKernel<A, B, C, O> = (
  out: O,
  o: number,
  a: A,
  ai: number,
  as: number,
  b: B,
  bi: number,
  bs: number,
  c: C,
  ci: number,
  cs: number,
  n: number,
) => void;

export function runTernary<A, B, C, O>(
  outShape: readonly number[],
  shapes: [readonly number[], readonly number[], readonly number[]],
  kernel: TernaryKernel<A, B, C, O>,
  out: O,
  a: A,
  b: B,
  c: C,
): void {
  const plan = planBroadcast(outShape, shapes);
  const [as, bs, cs] = plan.runStrides as [number, number, number];
  forEachRun(plan, (o, offsets, n) => kernel(out, o, a, offsets[0], as, b, offsets[1], bs, c, offsets[2], cs, n));
}
