/** Axis arguments as in PyTorch: negative values count from the end. */
import { TensorShapeError } from './tensor.js';

export function normalizeAxis(axis: number, rank: number, operation: string): number {
  const resolved = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= rank) {
    throw new TensorShapeError(
      `${operation}: axis ${axis} is out of range for a tensor of rank ${rank}; use an axis in [${-rank}, ${rank - 1}].`,
    );
  }
  return resolved;
}

/** Product of shape[from..to). */
export function product(shape: readonly number[], from = 0, to = shape.length): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i];
  return p;
}
