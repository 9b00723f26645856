import { InvalidArgumentError } from '@modular-diffusers/core';

/**
 * A pipeline input SDXL cannot use (wrong type, mismatched sizes or batch
 * lengths, a value out of range). Raised before any model runs where the
 * input can be checked up front.
 */
export class SdxlInputError extends InvalidArgumentError {
  override name = 'SdxlInputError';
}
