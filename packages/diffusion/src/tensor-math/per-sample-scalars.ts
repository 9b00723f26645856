/**
 * Per-sample factors along the batch axis, as torch broadcasts a [k,1,1,1]
 * tensor over [B,C,H,W]: one value for the whole batch, or one per sample.
 */
import { DiffusionInputError } from '../errors.js';

export interface PerSample {
  /** factor(b) for b in 0..batch-1 */
  readonly values: Float64Array;
  /** elements per batch sample */
  readonly inner: number;
}

export function perSample(values: ArrayLike<number>, shape: readonly number[], who: string): PerSample {
  const batch = shape.length > 0 ? shape[0] : 1;
  const size = shape.reduce((a, b) => a * b, 1);
  const inner = batch > 0 ? size / batch : 0;
  if (values.length !== 1 && values.length !== batch) {
    throw new DiffusionInputError(
      `${who}: got ${values.length} timesteps for a batch of ${batch}; pass one timestep, or one per batch sample.`,
    );
  }
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) out[b] = values.length === 1 ? values[0] : values[b];
  return { values: out, inner };
}
