import { Tensor, repeatBatch } from '@modular-diffusers/runtime';
import { SdxlInputError } from '../errors.js';

/**
 * A batch of k images tiled to `batch` rows ([a, b] -> [a, b, a, b]), as
 * diffusers expands image latents and masks; `batch` must be a multiple of k.
 */
export function tileToBatch<T extends Tensor>(t: T, batch: number, what: string): T {
  const rows = t.shape[0]!;
  if (rows >= batch) return t;
  if (batch % rows !== 0) {
    throw new SdxlInputError(
      `Cannot duplicate ${what} of batch size ${rows} to the effective batch size ${batch} (prompts x num_images_per_prompt); ` +
        `pass one ${what} or one per final image.`,
    );
  }
  return repeatBatch(t, batch / rows) as T;
}
