/** A 0-d tensor of any dtype holding `value` (converted as a cast would). */
import { Tensor, type DType, type TensorData, allocateData } from './tensor.js';
import { float32ToFloat16Bits } from './float16.js';

export function scalarTensor<D extends DType>(dtype: D, value: number): Tensor<D> {
  const data = allocateData(dtype, 1);
  if (dtype === 'int64') (data as BigInt64Array)[0] = BigInt(Math.trunc(value));
  else if (dtype === 'float16') (data as Uint16Array)[0] = float32ToFloat16Bits(value);
  else if (dtype === 'bool') (data as Uint8Array)[0] = value ? 1 : 0;
  else (data as Float32Array | Int32Array)[0] = value;
  return new Tensor(dtype, data as TensorData<D>, []);
}
