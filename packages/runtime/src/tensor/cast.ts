/**
 * Converts a tensor between dtypes, with PyTorch's `.to(dtype)` semantics:
 * - float -> int truncates toward zero; NaN or out-of-range values throw
 *   (PyTorch leaves them undefined, we refuse to guess);
 * - float32 <-> float16 is IEEE round-to-nearest-even (see float16.ts);
 * - anything -> bool is `x != 0`; bool -> numbers is 0/1;
 * - int64 -> int32/float goes through a JS number and throws if the value
 *   does not fit int32.
 * Casting to the tensor's own dtype returns the same tensor (no copy).
 */
import { Tensor, TensorDTypeError, allocateData, type DType, type TensorData } from './tensor.js';
import { float16ArrayToFloat32, float32ArrayToFloat16 } from './float16.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function checkedInt32(value: number, dtype: DType): number {
  const truncated = Math.trunc(value);
  if (!(truncated >= INT32_MIN && truncated <= INT32_MAX)) {
    throw new TensorDTypeError(`cast ${dtype} -> int32: value ${value} does not fit int32; clamp it first or cast to int64.`);
  }
  return truncated;
}

/** Element values as float32 (exact for bool/int32 up to 2^24 and float16). */
function toFloat32(t: Tensor): Float32Array {
  switch (t.dtype) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16':
      return float16ArrayToFloat32(t.data as Uint16Array);
    case 'int64': {
      const source = t.data as BigInt64Array;
      const out = new Float32Array(source.length);
      for (let i = 0; i < source.length; i++) out[i] = Number(source[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data as Int32Array | Uint8Array);
  }
}

export function cast<D extends DType>(t: Tensor, dtype: D): Tensor<D> {
  if (t.dtype === dtype) return t as Tensor<D>;
  const n = t.size;
  const out = allocateData(dtype, n);
  switch (dtype) {
    case 'float32':
      (out as Float32Array).set(toFloat32(t));
      break;
    case 'float16':
      float32ArrayToFloat16(toFloat32(t), out as Uint16Array);
      break;
    case 'bool': {
      const target = out as Uint8Array;
      if (t.dtype === 'int64') {
        const source = t.data as BigInt64Array;
        for (let i = 0; i < n; i++) target[i] = source[i] !== 0n ? 1 : 0;
      } else {
        // float16 -0 (0x8000) is zero too, so compare values, not bits.
        const source = t.dtype === 'float16' ? toFloat32(t) : (t.data as Float32Array | Int32Array);
        for (let i = 0; i < n; i++) target[i] = source[i] !== 0 ? 1 : 0;
      }
      break;
    }
    case 'int32': {
      const target = out as Int32Array;
      if (t.dtype === 'int64') {
        const source = t.data as BigInt64Array;
        for (let i = 0; i < n; i++) target[i] = checkedInt32(Number(source[i]), t.dtype);
      } else {
        const source = t.dtype === 'float16' ? toFloat32(t) : (t.data as Float32Array | Uint8Array);
        for (let i = 0; i < n; i++) target[i] = checkedInt32(source[i], t.dtype);
      }
      break;
    }
    case 'int64': {
      const target = out as BigInt64Array;
      const source = t.dtype === 'float16' ? toFloat32(t) : (t.data as Float32Array | Int32Array | Uint8Array);
      for (let i = 0; i < n; i++) {
        const value = Math.trunc(source[i]);
        if (!Number.isFinite(value)) {
          throw new TensorDTypeError(`cast ${t.dtype} -> int64: value ${source[i]} has no integer value; replace NaN/Infinity first.`);
        }
        target[i] = BigInt(value);
      }
      break;
    }
  }
  return new Tensor(dtype, out as TensorData<D>, t.shape);
}
