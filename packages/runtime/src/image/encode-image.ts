import { extname } from 'node:path';
import { writeFileAtomic } from '@modular-diffusers/atomic-file';
import sharp from 'sharp';
import { ImageInputError } from './image-errors.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

function toSharp(image: RgbImage): sharp.Sharp {
  assertRgbImage(image);
  const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  // Without this sharp writes a grey image as RGB.
  return image.channels === 1 ? pipeline.toColourspace('b-w') : pipeline;
}

/** Lossless PNG bytes (RGB, or grey for a 1-channel image). */
export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const bytes = await toSharp(image).png().toBuffer();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export interface SaveImageOptions {
  /** JPEG/WebP quality 1..100 (default 95); PNG is always lossless. */
  quality?: number;
}

/**
 * Writes an image encoded by the path's extension (.png, .jpg/.jpeg, .webp).
 * The bytes go to a temporary file beside the target that is then renamed
 * over it, so the final name never holds a partial image.
 */
export async function saveImage(image: RgbImage, path: string, options: SaveImageOptions = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  const quality = options.quality ?? 95;
  let pipeline = toSharp(image);
  if (ext === '.png') pipeline = pipeline.png();
  else if (ext === '.jpg' || ext === '.jpeg') pipeline = pipeline.jpeg({ quality });
  else if (ext === '.webp') pipeline = pipeline.webp({ quality });
  else {
    throw new ImageInputError(`Cannot tell the image format from '${path}'; end the file name with .png, .jpg, .jpeg or .webp.`);
  }
  await writeFileAtomic(path, await pipeline.toBuffer());
}
