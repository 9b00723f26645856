/**
 * Nested JS arrays <-> tensors, for tests and small literals:
 * `fromNested([[1, 2], [3, 4]])` is a float32 [2, 2] tensor.
 */
import { Tensor, TensorShapeError, allocateData, type DType, type TensorData } from './tensor.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';

export type Nested = number | boolean | bigint | readonly Nested[];

function shapeOf(value: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as Nested;
  }
  return shape;
}

export function fromNested(value: Nested): Tensor<'float32'>;
export function fromNested<D extends DType>(value: Nested, dtype: D): Tensor<D>;
export function fromNested<D extends DType>(value: Nested, dtype: D = 'float32' as D): Tensor<D> {
  const shape = shapeOf(value);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = allocateData(dtype, size);
  let index = 0;
  const visit = (node: Nested, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw new TensorShapeError(`fromNested: ragged array, expected a value at depth ${depth}.`);
      const n = node as number | boolean | bigint;
      if (dtype === 'int64') (data as BigInt64Array)[index++] = BigInt(n);
      else if (dtype === 'float16') (data as Uint16Array)[index++] = float32ToFloat16Bits(Number(n));
      else (data as Float32Array)[index++] = Number(n);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new TensorShapeError(`fromNested: ragged array, expected ${shape[depth]} items at depth ${depth}.`);
    }
    for (const child of node as readonly Nested[]) visit(child, depth + 1);
  };
  visit(value, 0);
  return new Tensor(dtype, data as TensorData<D>, shape);
}

/** Nested arrays of numbers (bigint for int64, float16 decoded to numbers). */
export function toNested(t: Tensor): Nested {
  const read = (i: number): number | bigint => {
    if (t.dtype === 'float16') return float16BitsToFloat32((t.data as Uint16Array)[i]);
    return (t.data as Float32Array | BigInt64Array)[i];
  };
  if (t.rank === 0) return read(0);
  let index = 0;
  const build = (depth: number): Nested[] => {
    const items: Nested[] = [];
    for (let i = 0; i < t.shape[depth]; i++) items.push(depth === t.rank - 1 ? read(index++) : build(depth + 1));
    return items;
  };
  return build(0);
}

/** The single value of a one-element tensor, like torch's `.item()`. */
export function item(t: Tensor): number {
  if (t.size !== 1) throw new TensorShapeError(`item: the tensor has ${t.size} elements, expected exactly 1.`);
  const value = toNested(t.reshape([]));
  return typeof value === 'bigint' ? Number(value) : (value as number);
}
