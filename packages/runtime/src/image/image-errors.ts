/** An image argument has the wrong type, shape or size. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
}

/** Bytes, a file or a URL could not be read or decoded as an image. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}
