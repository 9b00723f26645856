/**
 * Which output slot each element reduces into when a tensor is reduced over
 * some dims with keepdim (torch's `sum(dim=..., keepdim=True)`), so one
 * pass over the data can accumulate per-group sums in float64.
 */
import { DiffusionInputError } from '../errors.js';

export interface ReductionGroups {
  /** group index per element (row-major) */
  readonly groupOf: Int32Array;
  readonly count: number;
}

export function reductionGroups(shape: readonly number[], dims: readonly number[], who: string): ReductionGroups {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const dim of dims) {
    const k = dim < 0 ? dim + rank : dim;
    if (!Number.isInteger(k) || k < 0 || k >= rank) {
      throw new DiffusionInputError(`${who}: dim ${dim} is out of range for a tensor of rank ${rank}.`);
    }
    reduced[k] = true;
  }
  const keptStride = new Array<number>(rank).fill(0);
  let count = 1;
  for (let k = rank - 1; k >= 0; k--) {
    if (!reduced[k]) {
      keptStride[k] = count;
      count *= shape[k];
    }
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const groupOf = new Int32Array(size);
  const index = new Array<number>(rank).fill(0);
  let group = 0;
  for (let i = 0; i < size; i++) {
    groupOf[i] = group;
    // advance the multi-index like an odometer, keeping the group index in step
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      group += keptStride[k];
      if (index[k] < shape[k]) break;
      group -= keptStride[k] * shape[k];
      index[k] = 0;
    }
  }
  return { groupOf, count };
}

/** All dims but the batch dim, as diffusers' guiders reduce by default. */
export function nonBatchDims(rank: number): number[] {
  return Array.from({ length: Math.max(rank - 1, 0) }, (_, i) => i + 1);
}
