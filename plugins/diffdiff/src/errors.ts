import { InvalidArgumentError } from '@modular-diffusers/core';

/**
 * A differential-diffusion input the blocks cannot use (a change map that is
 * not an image, a schedule the precomputed latents do not cover). Raised
 * before any model runs where the input can be checked up front.
 */
export class DiffDiffInputError extends InvalidArgumentError {
  static override readonly code: string = 'DIFFDIFF_INPUT';
  override name = 'DiffDiffInputError';
}
