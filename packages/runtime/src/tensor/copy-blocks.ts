/**
 * Typed-array block copies shared by the structural operations (concat,
 * split, repeat, slice). Every dtype's storage supports `set`/`subarray`,
 * so one code path serves all of them at memcpy speed.
 */
import type { TensorData } from './tensor.js';

export interface Storage {
  readonly length: number;
  set(source: Storage, offset?: number): void;
  subarray(begin?: number, end?: number): Storage;
}

export function storage(data: TensorData): Storage {
  return data as unknown as Storage;
}

/** Copies `length` elements from `source[from..]` to `target[to..]`. */
export function copyBlock(target: Storage, to: number, source: Storage, from: number, length: number): void {
  if (length === 1) {
    (target as unknown as unknown[])[to] = (source as unknown as unknown[])[from];
    return;
  }
  target.set(source.subarray(from, from + length), to);
}
