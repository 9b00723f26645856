/** fp16 and bf16 bit patterns to float32, for the one conversion copy a half-precision checkpoint needs on CPU. */
import { float16ArrayToFloat32 } from '@modular-diffusers/runtime';

export function float16ToFloat32Into(source: Uint16Array, out: Float32Array): void {
  float16ArrayToFloat32(source, out);
}

/** bf16 is the top half of a float32: widening is a 16-bit shift, exact. */
export function bfloat16ToFloat32Into(source: Uint16Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < source.length; i++) bits[i] = source[i]! << 16;
}
