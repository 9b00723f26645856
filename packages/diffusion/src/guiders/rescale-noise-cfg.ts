/**
 * Guidance rescale (Lin et al. 2023, arXiv 2305.08891, section 3.4): scale
 * the guided prediction back to the standard deviation of the conditional
 * one, then blend by `guidanceRescale` to fix over-exposure at high CFG.
 */
import { float32Like, type Float32Tensor } from '../tensor-math/latent-checks.js';

/** Unbiased standard deviation of each batch sample (torch.std over all non-batch dims). */
function perSampleStd(data: Float32Array, batch: number, inner: number): Float64Array {
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const start = b * inner;
    let mean = 0;
    for (let i = start; i < start + inner; i++) mean += data[i];
    mean /= inner;
    let squares = 0;
    for (let i = start; i < start + inner; i++) {
      const d = data[i] - mean;
      squares += d * d;
    }
    out[b] = Math.sqrt(squares / (inner - 1));
  }
  return out;
}

export function rescaleNoiseCfg(noiseCfg: Float32Tensor, noisePredText: Float32Tensor, guidanceRescale: number): Float32Tensor {
  const batch = noiseCfg.shape[0] ?? 1;
  const inner = noiseCfg.size / batch;
  const stdText = perSampleStd(noisePredText.data, batch, inner);
  const stdCfg = perSampleStd(noiseCfg.data, batch, inner);
  const out = new Float32Array(noiseCfg.size);
  for (let b = 0; b < batch; b++) {
    // blend of cfg * (stdText / stdCfg) and cfg, folded into one factor
    const factor = guidanceRescale * (stdText[b] / stdCfg[b]) + (1 - guidanceRescale);
    for (let i = b * inner, end = i + inner; i < end; i++) out[i] = noiseCfg.data[i] * factor;
  }
  return float32Like(noiseCfg.shape, out);
}
