/**
 * Box-Muller over blocks of 16 float32 uniforms, PyTorch's
 * `normal_fill_16_AVX2`: for j in 0..7 the pair (data[j], data[j + 8]) is
 *   u1 = 1 - data[j]            (in (0, 1], safe for log)
 *   u2 = data[j + 8]
 *   radius = sqrt(-2 * log(u1)),  theta = float32(2 * pi) * u2
 *   data[j]     = fma(radius * cos(theta), std, mean)
 *   data[j + 8] = fma(radius * sin(theta), std, mean)
 * with log/sincos from cephes-float32.ts, every step in float32. The final
 * fma is an explicit instruction in PyTorch's kernel, so it is always
 * fused; `fused` selects the build variant of log/sincos.
 */
import { fmaf } from '../tensor/fma.js';
import { cephesLogf, cephesSincosf, type SinCos } from './cephes-float32.js';

const TWO_PI = Math.fround(2 * Math.PI);
const sincos: SinCos = [0, 0];

export function normalFill16(data: Float32Array, offset: number, mean: number, std: number, fused: boolean): void {
  for (let j = 0; j < 8; j++) {
    const u1 = Math.fround(1 - data[offset + j]);
    const u2 = data[offset + j + 8];
    const radius = Math.fround(Math.sqrt(Math.fround(-2 * cephesLogf(u1, fused))));
    cephesSincosf(Math.fround(TWO_PI * u2), sincos, fused);
    data[offset + j] = fmaf(Math.fround(radius * sincos[1]), std, mean);
    data[offset + j + 8] = fmaf(Math.fround(radius * sincos[0]), std, mean);
  }
}
