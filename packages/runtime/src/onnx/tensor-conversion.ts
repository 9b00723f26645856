/**
 * Our Tensor <-> onnxruntime's Tensor, converting element types to what the
 * session declares. Callers work in float32 and int32/int64 whatever the
 * export: an fp16 UNet gets float16 feeds, a CLIP export that declares int64
 * input_ids gets int64, and float16 outputs come back as float32.
 */
import * as ort from 'onnxruntime-node';
import { Tensor, type DType } from '../tensor/tensor.js';
import { float16ArrayToFloat32 as float16ToFloat32Array, float32ArrayToFloat16 } from '../tensor/float16.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

export class OnnxTensorTypeError extends ModularDiffusersError {
  static override readonly code: string = 'ONNX_TENSOR_TYPE';
  override name = 'OnnxTensorTypeError';
}

/** Element types that cross the boundary unconverted. */
const passThrough = new Set<string>(['float32', 'float16', 'int32', 'int64', 'bool']);

export function convertTensorData(tensor: Tensor, target: DType, what: string): Tensor {
  if (tensor.dtype === target) return tensor;
  const { data, shape } = tensor;
  switch (`${tensor.dtype}->${target}`) {
    case 'float32->float16':
      return new Tensor('float16', float32ArrayToFloat16(data as Float32Array), shape);
    case 'float16->float32':
      return new Tensor('float32', float16ToFloat32Array(data as Uint16Array), shape);
    case 'int32->int64': {
      const out = new BigInt64Array(data.length);
      for (let i = 0; i < out.length; i++) out[i] = BigInt((data as Int32Array)[i]);
      return new Tensor('int64', out, shape);
    }
    case 'int64->int32': {
      const source = data as BigInt64Array;
      const out = new Int32Array(source.length);
      for (let i = 0; i < out.length; i++) {
        const v = source[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new OnnxTensorTypeError(`${what}: int64 value ${v} at index ${i} does not fit the int32 the model declares.`);
        }
        out[i] = Number(v);
      }
      return new Tensor('int32', out, shape);
    }
    default:
      throw new OnnxTensorTypeError(
        `${what}: the model declares ${target} but got a ${tensor.dtype} tensor; only float32<->float16 and ` +
          `int32<->int64 are converted automatically. Convert the tensor to ${target} first.`,
      );
  }
}

export function toOrtTensor(tensor: Tensor, target: string | undefined, what: string): ort.Tensor {
  const converted = target && passThrough.has(target) ? convertTensorData(tensor, target as DType, what) : tensor;
  return new ort.Tensor(converted.dtype, converted.data, [...converted.shape]);
}

/** Wrap an onnxruntime output; float16 becomes float32 unless `keepFloat16`. */
export function fromOrtTensor(value: ort.Tensor, name: string, keepFloat16 = false): Tensor {
  const type = value.type;
  if (!passThrough.has(type)) {
    throw new OnnxTensorTypeError(`Output '${name}' has element type ${type}, which runtime tensors do not support.`);
  }
  // onnxruntime-node hands each output its own buffer, so it is wrapped without a copy.
  const tensor = new Tensor(type as DType, value.data as Tensor['data'], value.dims);
  return type === 'float16' && !keepFloat16 ? convertTensorData(tensor, 'float32', `Output '${name}'`) : tensor;
}
