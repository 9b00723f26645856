/**
 * Runs a float32 binary kernel over two broadcast operands. A kernel
 * processes one run (see broadcast.ts) in a tight loop; it is called once
 * per run, never per element. `as`/`bs` are 1 when the operand advances
 * inside the run and 0 when it is broadcast; `p` is an optional scalar
 * parameter (the scale of addScaled, the weight of lerp).
 */
import type { Tensor } from './tensor.js';
import { forEachRun, planBroadcast } from './broadcast.js';
import { float32Operand, float32Output, type Float32Operand } from './operand.js';

export type BinaryKernel = (
  out: Float32Array,
  o: number,
  a: Float32Array,
  ai: number,
  as: number,
  b: Float32Array,
  bi: number,
  bs: number,
  n: number,
  p: number,
) => void;

export function applyBinary(
  operation: string,
  kernel: BinaryKernel,
  left: Float32Operand,
  right: Float32Operand,
  out: Tensor | undefined,
  p = 0,
): Tensor<'float32'> {
  const a = float32Operand(left, operation);
  const b = float32Operand(right, operation);
  const result = float32Output([a.shape, b.shape], out, operation);
  const plan = planBroadcast(result.shape, [a.shape, b.shape]);
  const [as, bs] = plan.runStrides as [number, number];
  const outData = result.data;
  const aData = a.data;
  const bData = b.data;
  forEachRun(plan, (o, offsets, n) => kernel(outData, o, aData, offsets[0], as, bData, offsets[1], bs, n, p));
  return result;
}
