import sharp from 'sharp';
import { ImageInputError } from './image-errors.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

/** diffusers' resample names (its PIL_INTERPOLATION keys). */
export type ResampleFilter = 'lanczos' | 'bicubic' | 'bilinear' | 'linear' | 'nearest';

export const RESAMPLE_FILTERS: readonly ResampleFilter[] = ['lanczos', 'bicubic', 'bilinear', 'linear', 'nearest'];

/**
 * PIL filter -> sharp kernel. PIL's LANCZOS is Lanczos with a = 3, BICUBIC is
 * Keys' cubic with a = -0.5 (Catmull-Rom, sharp's 'cubic'), BILINEAR the
 * triangle; all are widened on downscale in both libraries. NEAREST samples
 * pixel centres in both (source = floor((x + 0.5) * in / out)), so it is exact.
 * The others agree away from the border and differ by a few levels within a
 * kernel radius of it, where the two libraries treat the cut kernel
 * differently (PIL renormalises the weights that fall inside the image).
 */
const KERNELS: Record<ResampleFilter, keyof sharp.KernelEnum> = {
  lanczos: 'lanczos3',
  bicubic: 'cubic',
  bilinear: 'linear',
  linear: 'linear',
  nearest: 'nearest',
};

/** PIL's `image.resize((width, height), resample)`: stretches to exactly width x height. */
export async function resizeImage(
  image: RgbImage,
  width: number,
  height: number,
  resample: ResampleFilter = 'lanczos',
): Promise<RgbImage> {
  assertRgbImage(image);
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ImageInputError(`Cannot resize to ${name} ${value}: it must be a positive integer.`);
    }
  }
  const kernel = KERNELS[resample];
  if (kernel === undefined) {
    throw new ImageInputError(`Unknown resample filter '${String(resample)}'; use one of ${RESAMPLE_FILTERS.join(', ')}.`);
  }
  if (width === image.width && height === image.height) return image;
  const { channels } = image;
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels } }).resize(width, height, {
    kernel,
    fit: 'fill',
  });
  // sharp would otherwise hand back a grey image as sRGB.
  if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== channels || info.width !== width || info.height !== height) {
    throw new Error(`sharp resized to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x${channels}.`);
  }
  return { width, height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
