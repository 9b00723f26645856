import { ModularDiffusersError } from '@modular-diffusers/core';

/** An image argument has the wrong type, shape or size. */
export class ImageInputError extends ModularDiffusersError {
  static override readonly code: string = 'IMAGE_INPUT';
  override name = 'ImageInputError';
}

/** Bytes, a file or a URL could not be read or decoded as an image. */
export class ImageDecodeError extends ModularDiffusersError {
  static override readonly code: string = 'IMAGE_DECODE';
  override name = 'ImageDecodeError';
}
