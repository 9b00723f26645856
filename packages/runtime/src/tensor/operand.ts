/**
 * Normalises the operands of float32 arithmetic: a tensor is checked to be
 * float32, a JS number becomes a 0-d float32 tensor. The number is rounded
 * to float32 first, as PyTorch does when a Python scalar meets a float32
 * tensor.
 */
import { Tensor, TensorShapeError, expectDType } from './tensor.js';
import { broadcastShapes } from './broadcast.js';

export type Float32Operand = Tensor<'float32'> | number;

export function float32Operand(value: Float32Operand | Tensor, operation: string): Tensor<'float32'> {
  if (typeof value === 'number') return new Tensor('float32', Float32Array.of(value), []);
  expectDType(value, ['float32'], operation);
  return value;
}

/**
 * The output tensor of an elementwise operation: `out` when given (it must
 * have exactly the broadcast shape; it may be one of the inputs, which
 * makes the operation in place), otherwise a new float32 tensor.
 */
export function float32Output(shapes: (readonly number[])[], out: Tensor | undefined, operation: string): Tensor<'float32'> {
  const shape = broadcastShapes(...shapes);
  if (!out) return Tensor.zeros('float32', shape);
  expectDType(out, ['float32'], `${operation} (out)`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new TensorShapeError(
      `${operation}: the output tensor has shape [${out.shape.join(', ')}] but the result has shape [${shape.join(', ')}]; pass an output of the result's shape or none.`,
    );
  }
  return out;
}
