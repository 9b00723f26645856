import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * A dense, row-major tensor over a typed array. It is deliberately small: a
 * dtype, a shape and the data. Operations live in their own files under
 * `tensor/` and never allocate per element.
 *
 * float16 data is stored as raw IEEE half bits in a Uint16Array, the layout
 * onnxruntime-node uses for 'float16' tensors.
 */
export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool';

export interface DataTypeMap {
  float32: Float32Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export type TensorData<D extends DType = DType> = DataTypeMap[D];

const constructors = {
  float32: Float32Array,
  float16: Uint16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as const;

/** A zero-filled typed array of the kind that holds `dtype`. */
export function allocateData<D extends DType>(dtype: D, size: number): TensorData<D> {
  return new constructors[dtype](size) as TensorData<D>;
}

export class TensorShapeError extends ModularDiffusersError {
  static override readonly code: string = 'TENSOR_SHAPE';
  override name = 'TensorShapeError';
}

/** Raised when an operation is given a dtype it does not support. */
export class TensorDTypeError extends ModularDiffusersError {
  static override readonly code: string = 'TENSOR_DTYPE';
  override name = 'TensorDTypeError';
}

/** Throws a TensorDTypeError unless `tensor` has one of `allowed` dtypes. */
export function expectDType<D extends DType>(
  tensor: Tensor,
  allowed: readonly D[],
  operation: string,
): asserts tensor is Tensor<D> {
  if (!(allowed as readonly DType[]).includes(tensor.dtype)) {
    throw new TensorDTypeError(
      `${operation} needs a ${allowed.join(' or ')} tensor, got ${tensor.dtype}; convert it first with cast(tensor, '${allowed[0]}').`,
    );
  }
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new TensorShapeError(`Invalid shape [${shape.join(', ')}]: every dimension must be a non-negative integer.`);
    }
    size *= dim;
  }
  return size;
}

export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorData<D>;

  constructor(dtype: D, data: TensorData<D>, shape: readonly number[]) {
    const size = sizeOf(shape);
    if (!(data instanceof constructors[dtype])) {
      throw new TypeError(`Tensor of dtype '${dtype}' needs a ${constructors[dtype].name}, got ${data?.constructor?.name}.`);
    }
    if (data.length !== size) {
      throw new TensorShapeError(
        `Tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}.`,
      );
    }
    this.dtype = dtype;
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  static zeros<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
    const data = new constructors[dtype](sizeOf(shape)) as TensorData<D>;
    return new Tensor(dtype, data, shape);
  }

  static float32(values: ArrayLike<number>, shape?: readonly number[]): Tensor<'float32'> {
    const data = Float32Array.from(values);
    return new Tensor('float32', data, shape ?? [data.length]);
  }

  /** A view with a new shape over the same data (no copy). */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(this.dtype, this.data, shape);
  }

  clone(): Tensor<D> {
    return new Tensor(this.dtype, this.data.slice() as TensorData<D>, this.shape);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}

/** Narrows a tensor to its dtype (`hasDType(t, 'float32')`), so its data is typed without a cast. */
export function hasDType<D extends DType>(t: Tensor, dtype: D): t is Tensor<D> {
  return t.dtype === dtype;
}
