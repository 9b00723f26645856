/**
 * The per-step masks of differential diffusion: step i keeps a latent pixel
 * on the noised original while its change-map value exceeds i / n (+
 * denoising_start), so a pixel with value v is held for the first ~v * n
 * steps and denoised freely after that. White (1) is held at every step,
 * black (0) never.
 */
import { Tensor, greater } from '@modular-diffusers/runtime/tensor';
import { DiffDiffInputError } from './errors.js';

/**
 * diffusers: `thresholds = arange(n, dtype=map.dtype) / n` then
 * `map > thresholds + (denoising_start or 0)`, all in float32. Returns a bool
 * tensor [n, h, w] for a map [h, w] (or [1, 1, h, w] from the processor).
 */
export function changeMapMasks(map: Tensor<'float32'>, numInferenceSteps: number, denoisingStart: number | null = null): Tensor<'bool'> {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new DiffDiffInputError(`changeMapMasks needs a positive integer step count, got ${String(numInferenceSteps)}.`);
  }
  const plane = toPlane(map);
  const offset = Math.fround(denoisingStart ?? 0);
  const thresholds = new Float32Array(numInferenceSteps);
  // Each value is rounded to float32 twice, as torch does: the division, then the offset's addition.
  for (let i = 0; i < numInferenceSteps; i++) thresholds[i] = Math.fround(i / numInferenceSteps) + offset;
  return greater(plane.reshape([1, ...plane.shape]), new Tensor('float32', thresholds, [numInferenceSteps, 1, 1]));
}

/** [h, w] from [h, w], [1, h, w] or [1, 1, h, w]: one change map for the whole batch. */
function toPlane(map: Tensor<'float32'>): Tensor<'float32'> {
  if (!(map instanceof Tensor) || map.dtype !== 'float32') {
    throw new DiffDiffInputError('The change map must be a float32 Tensor in [0, 1] (what mask_processor.preprocess returns).');
  }
  const leading = map.shape.slice(0, -2);
  if (map.rank < 2 || map.rank > 4 || leading.some((d) => d !== 1)) {
    throw new DiffDiffInputError(
      `The change map must be one grayscale map ([h, w] or [1, 1, h, w]), got shape [${map.shape.join(', ')}]; pass a single diffdiff_map for the whole batch.`,
    );
  }
  return map.reshape(map.shape.slice(-2));
}
