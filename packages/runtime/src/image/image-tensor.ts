import { Tensor } from '../tensor/tensor.js';
import { ImageInputError } from './image-errors.js';
import type { RgbImage } from './rgb-image.js';

/*
 * The array steps of diffusers' VaeImageProcessor, in float32 like numpy and
 * torch do them: every intermediate is stored in a Float32Array (or rounded
 * with Math.fround), so results match bit for bit.
 */

/** `pil_to_numpy` + `numpy_to_pt`: same-size images -> NCHW float32 in [0,1] (x / 255). */
export function imagesToTensor(images: readonly RgbImage[]): Tensor<'float32'> {
  const first = images[0]!;
  const { width, height, channels } = first;
  images.forEach((image, i) => {
    if (image.width !== width || image.height !== height || image.channels !== channels) {
      throw new ImageInputError(
        `Image ${i} is ${image.width}x${image.height}x${image.channels} but image 0 is ${width}x${height}x${channels}; ` +
          'a batch needs one size (enable do_resize or pass height and width).',
      );
    }
  });
  const plane = width * height;
  const out = new Float32Array(images.length * channels * plane);
  images.forEach((image, n) => {
    const base = n * channels * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + c * plane + p] = image.data[p * channels + c]! / 255;
    }
  });
  return new Tensor('float32', out, [images.length, channels, height, width]);
}

/** `numpy_to_pil` after `pt_to_numpy`: NCHW in [0,1] -> 8-bit images via `(x * 255).round()`. */
export function tensorToImages(tensor: Tensor<'float32'>): RgbImage[] {
  return denormalizedToImages(tensor, null);
}

/**
 * `tensorToImages(denormalize(tensor, which))` in one pass, without the
 * intermediate float tensor: per value, `(x * 0.5 + 0.5).clamp(0, 1)` in
 * float32 where `which[b]` (else x as is), then `* 255` in float32 and
 * numpy's round-half-even into the interleaved 8-bit image. The same float32
 * roundings as the two-pass path, so the bytes are identical.
 */
export function denormalizedToImages(tensor: Tensor<'float32'>, which: readonly boolean[] | null): RgbImage[] {
  const [n, channels, height, width] = tensor.shape as [number, number, number, number];
  if (channels !== 3 && channels !== 1) {
    throw new ImageInputError(`Cannot make images from ${channels} channels (only 3 or 1); use outputType 'np' or 'pt'.`);
  }
  const src = tensor.data as Float32Array;
  const plane = width * height;
  const images: RgbImage[] = [];
  for (let b = 0; b < n; b++) {
    const data = new Uint8Array(plane * channels);
    const apply = which !== null && which[b] === true;
    const from = b * channels * plane;
    if (apply && channels === 3) denormalizeRgbToBytes(src, from, plane, data);
    else {
      for (let c = 0; c < channels; c++) {
        // Read one channel plane contiguously, write every `channels`-th byte.
        if (apply) denormalizePlaneToBytes(src, from + c * plane, plane, data, c, channels);
        else planeToBytes(src, from + c * plane, plane, data, c, channels);
      }
    }
    images.push({ width, height, channels, data });
  }
  return images;
}

/*
 * Adding and removing 1.5 * 2^52 leaves a double in [2^52, 2^53), where the
 * spacing is 1, so the addition rounds to an integer with the FPU's
 * round-half-even: numpy's round() without a branch per value. It holds
 * for |x| < 2^51; the stores into a Uint8Array then wrap like astype('uint8').
 */
const ROUND_MAGIC = 6755399441055744;
const ROUND_MAGIC_LIMIT = 2251799813685248;

/** `(x * 0.5 + 0.5).clamp(0, 1) * 255`, rounded: the values land in [0, 255] (NaN stays NaN and stores as 0). */
function denormalizePlaneToBytes(src: Float32Array, from: number, plane: number, data: Uint8Array, first: number, stride: number): void {
  for (let p = 0, o = first; p < plane; p++, o += stride) {
    const v = Math.min(Math.max(Math.fround(src[from + p]! * 0.5 + 0.5), 0), 1);
    data[o] = Math.fround(v * 255) + ROUND_MAGIC - ROUND_MAGIC;
  }
}

/** The same for the three planes of an RGB image at once, pixel by pixel: one sequential write stream (about 30% faster). */
function denormalizeRgbToBytes(src: Float32Array, from: number, plane: number, data: Uint8Array): void {
  const g = from + plane;
  const b = g + plane;
  for (let p = 0, o = 0; p < plane; p++, o += 3) {
    const red = Math.min(Math.max(Math.fround(src[from + p]! * 0.5 + 0.5), 0), 1);
    const green = Math.min(Math.max(Math.fround(src[g + p]! * 0.5 + 0.5), 0), 1);
    const blue = Math.min(Math.max(Math.fround(src[b + p]! * 0.5 + 0.5), 0), 1);
    data[o] = Math.fround(red * 255) + ROUND_MAGIC - ROUND_MAGIC;
    data[o + 1] = Math.fround(green * 255) + ROUND_MAGIC - ROUND_MAGIC;
    data[o + 2] = Math.fround(blue * 255) + ROUND_MAGIC - ROUND_MAGIC;
  }
}

/** `x * 255` rounded, for values already in [0, 1]; out-of-range values take the exact (slower) rounding. */
function planeToBytes(src: Float32Array, from: number, plane: number, data: Uint8Array, first: number, stride: number): void {
  for (let p = 0, o = first; p < plane; p++, o += stride) {
    const t = Math.fround(src[from + p]! * 255);
    data[o] = t < ROUND_MAGIC_LIMIT && t > -ROUND_MAGIC_LIMIT ? t + ROUND_MAGIC - ROUND_MAGIC : roundHalfEven(t);
  }
}

/** numpy's round(): ties go to the even neighbour (127.5 -> 128, 126.5 -> 126). */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** `2 * x - 1`: [0,1] -> [-1,1]. */
export function normalize(tensor: Tensor<'float32'>): Tensor<'float32'> {
  const src = tensor.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = 2 * src[i]! - 1;
  return new Tensor('float32', out, tensor.shape);
}

/** `(x * 0.5 + 0.5).clamp(0, 1)`, only for the batch items where `which[b]` is true. */
export function denormalize(tensor: Tensor<'float32'>, which: readonly boolean[]): Tensor<'float32'> {
  const src = tensor.data as Float32Array;
  const out = src.slice();
  const perItem = tensor.shape[0] === 0 ? 0 : src.length / tensor.shape[0]!;
  which.forEach((apply, b) => {
    if (!apply) return;
    for (let i = b * perItem; i < (b + 1) * perItem; i++) {
      const v = Math.fround(src[i]! * 0.5 + 0.5);
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v; // NaN stays NaN, as torch.clamp leaves it
    }
  });
  return new Tensor('float32', out, tensor.shape);
}

/** diffusers' `binarize`: values < 0.5 -> 0, values >= 0.5 -> 1 (NaN untouched). */
export function binarize(tensor: Tensor<'float32'>): Tensor<'float32'> {
  const src = tensor.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = v < 0.5 ? 0 : v >= 0.5 ? 1 : v;
  }
  return new Tensor('float32', out, tensor.shape);
}

/** NCHW -> NHWC (`pt_to_numpy`). */
export function toChannelsLast(tensor: Tensor<'float32'>): Tensor<'float32'> {
  const [n, c, h, w] = tensor.shape as [number, number, number, number];
  const src = tensor.data as Float32Array;
  const out = new Float32Array(src.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const from = (b * c + ch) * plane;
      for (let p = 0; p < plane; p++) out[(b * plane + p) * c + ch] = src[from + p]!;
    }
  }
  return new Tensor('float32', out, [n, h, w, c]);
}

export function minimum(tensor: Tensor<'float32'>): number {
  const src = tensor.data as Float32Array;
  let min = Infinity;
  for (let i = 0; i < src.length; i++) if (src[i]! < min) min = src[i]!;
  return min;
}
