import { Tensor } from '@modular-diffusers/runtime';

/** A schedule as the 1-D float32 Tensor SDXL blocks pass around as `timesteps`. */
export function timestepsTensor(timesteps: Float32Array): Tensor<'float32'> {
  return new Tensor('float32', Float32Array.from(timesteps), [timesteps.length]);
}

/** A custom schedule as a caller passes it (`timesteps`, `sigmas`): a number list, typed array or 1-D Tensor. */
export type NumberListInput = ArrayLike<number> | Tensor;

/** Accepts `timesteps`/`sigmas` given as a Tensor, typed array or number list. */
export function numberList(value: unknown): number[] | null {
  if (value == null) return null;
  if (value instanceof Tensor) return Array.from(value.data as ArrayLike<number>, Number);
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return Array.from(value as ArrayLike<number>, Number);
  return null;
}
