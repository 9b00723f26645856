/**
 * torch.clamp(t, min, max): min(max(x, min), max) elementwise; either bound
 * may be omitted; NaN stays NaN. With `out` = t it runs in place.
 */
import { expectDType, type Tensor } from './tensor.js';
import { float32Output } from './operand.js';

export function clamp(t: Tensor<'float32'>, min?: number, max?: number, out?: Tensor<'float32'>): Tensor<'float32'> {
  expectDType(t, ['float32'], 'clamp');
  if (min === undefined && max === undefined) {
    throw new RangeError('clamp needs at least one of min and max; pass a number for the bound you want.');
  }
  const result = float32Output([t.shape], out, 'clamp');
  const lo = min === undefined ? -Infinity : Math.fround(min);
  const hi = max === undefined ? Infinity : Math.fround(max);
  const source = t.data;
  const target = result.data;
  for (let i = 0; i < source.length; i++) {
    const x = source[i];
    target[i] = x < lo ? lo : x > hi ? hi : x;
  }
  return result;
}
