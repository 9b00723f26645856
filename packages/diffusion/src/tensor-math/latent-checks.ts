/**
 * Input checks shared by schedulers and guiders. They run once per call
 * (not per element) and turn a mismatch into an error that names the
 * argument and what it should be.
 */
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { DiffusionInputError } from '../errors.js';

export type Float32Tensor = Tensor<'float32'>;

export function requireFloat32(tensor: Tensor, name: string, who: string): Float32Tensor {
  if (!(tensor instanceof Tensor)) {
    throw new DiffusionInputError(`${who}: \`${name}\` must be a Tensor, got ${describe(tensor)}.`);
  }
  if (tensor.dtype !== 'float32') {
    throw new DiffusionInputError(
      `${who}: \`${name}\` is ${tensor.dtype}; schedulers and guiders compute in float32. Convert it to float32 first (diffusers upcasts the same way).`,
    );
  }
  return tensor as Float32Tensor;
}

export function requireSameShape(a: Tensor, b: Tensor, names: [string, string], who: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new DiffusionInputError(
      `${who}: \`${names[0]}\` has shape [${a.shape.join(', ')}] but \`${names[1]}\` has shape [${b.shape.join(', ')}]; they must match.`,
    );
  }
}

/** A float32 tensor of the given shape over a fresh buffer. */
export function float32Like(shape: readonly number[], data: Float32Array): Float32Tensor {
  return new Tensor('float32', data, shape);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
