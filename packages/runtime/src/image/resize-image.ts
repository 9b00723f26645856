import sharp from 'sharp';
import { ImageInputError } from './image-errors.js';
import { pilResize, type PilBox, type PilFilter } from './pil-resize.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

/** diffusers' resample names (its PIL_INTERPOLATION keys). */
export type ResampleFilter = 'lanczos' | 'bicubic' | 'bilinear' | 'linear' | 'nearest';

export const RESAMPLE_FILTERS: readonly ResampleFilter[] = ['lanczos', 'bicubic', 'bilinear', 'linear', 'nearest'];

/** diffusers' `PIL_INTERPOLATION`: 'linear' is PIL's BILINEAR too. */
const PIL_FILTERS: Record<ResampleFilter, PilFilter> = {
  lanczos: 'lanczos',
  bicubic: 'bicubic',
  bilinear: 'bilinear',
  linear: 'bilinear',
  nearest: 'nearest',
};

export interface ResizeImageOptions {
  /** PIL's `box`: the source region to scale (fractional pixels allowed), by default the whole image. */
  box?: PilBox;
  /** PIL's `reducing_gap`; null (diffusers' default) resamples in one pass. */
  reducingGap?: number | null;
}

function pilFilter(resample: ResampleFilter): PilFilter {
  const filter = PIL_FILTERS[resample];
  if (filter === undefined) {
    throw new ImageInputError(`Unknown resample filter '${String(resample)}'; use one of ${RESAMPLE_FILTERS.join(', ')}.`);
  }
  return filter;
}

function checkSize(width: number, height: number): void {
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ImageInputError(`Cannot resize to ${name} ${value}: it must be a positive integer.`);
    }
  }
}

/**
 * PIL's `image.resize((width, height), resample, box, reducing_gap)`, what
 * diffusers' `VaeImageProcessor.resize` (and transformers' image processors)
 * do to PIL images: the same bytes as PIL, for every filter, up and down,
 * 'RGB' and 'L'. Stretches to exactly width x height. An unchanged size
 * (and no box) returns `image` itself. Synchronous work behind a promise, as
 * the API was when sharp did it; see `resizeImageSync`.
 */
export async function resizeImage(
  image: RgbImage,
  width: number,
  height: number,
  resample: ResampleFilter = 'lanczos',
  options: ResizeImageOptions = {},
): Promise<RgbImage> {
  return resizeImageSync(image, width, height, resample, options);
}

/** `resizeImage` without the promise. */
export function resizeImageSync(
  image: RgbImage,
  width: number,
  height: number,
  resample: ResampleFilter = 'lanczos',
  options: ResizeImageOptions = {},
): RgbImage {
  assertRgbImage(image);
  checkSize(width, height);
  const filter = pilFilter(resample);
  if (width === image.width && height === image.height && options.box === undefined) return image;
  return pilResize(image, width, height, { filter, ...(options.box ? { box: options.box } : {}), reducingGap: options.reducingGap ?? null });
}

/**
 * sharp's (libvips') kernels for diffusers' filter names: lanczos3, cubic
 * (Catmull-Rom), linear, nearest. sharp samples half an output pixel to one
 * side of PIL and treats the cut kernel at the border differently, so results
 * differ from PIL's (by up to ~100 levels on a 2x upscale of hard edges).
 */
const SHARP_KERNELS: Record<ResampleFilter, keyof sharp.KernelEnum> = {
  lanczos: 'lanczos3',
  bicubic: 'cubic',
  bilinear: 'linear',
  linear: 'linear',
  nearest: 'nearest',
};

/**
 * Resizes with sharp instead of PIL's algorithm: NOT what diffusers computes,
 * so never used by the pipelines. For callers that want libvips' speed and
 * do not need diffusers parity (previews, thumbnails); `npm run bench` times
 * both. Stretches to exactly width x height.
 */
export async function resizeImageWithSharp(
  image: RgbImage,
  width: number,
  height: number,
  resample: ResampleFilter = 'lanczos',
): Promise<RgbImage> {
  assertRgbImage(image);
  checkSize(width, height);
  const kernel = SHARP_KERNELS[resample];
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
