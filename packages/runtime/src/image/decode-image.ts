import sharp from 'sharp';
import { ImageDecodeError } from './image-errors.js';
import type { RgbImage } from './rgb-image.js';

/**
 * Decodes encoded image bytes (PNG, JPEG, WebP, GIF, TIFF, AVIF, ...) the
 * way diffusers' `load_image` opens a file: EXIF orientation applied
 * (`ImageOps.exif_transpose`), then `convert('RGB')`, which drops alpha
 * without blending and repeats grey into three channels.
 */
export async function decodeImage(bytes: Uint8Array, where = 'the given bytes'): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels instead of 3`);
    }
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new ImageDecodeError(
      `Could not decode an image from ${where}: ${(error as Error).message}. ` +
        `Pass a PNG, JPEG, WebP, GIF, TIFF or AVIF file, or an RgbImage.`,
      { cause: error },
    );
  }
}
