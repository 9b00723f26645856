/**
 * diffusers' `VaeImageProcessor.resize(image, height, width, resize_mode)`
 * for images, and PIL's `crop` that `crops_coords` applies before it.
 * 'fill' and 'crop' keep the aspect ratio and always give an RGB canvas
 * (diffusers pastes onto `Image.new("RGB", ...)`), also for 'L' input.
 */
import { ImageInputError } from './image-errors.js';
import { resizeImageSync, type ResampleFilter } from './resize-image.js';
import type { RgbImage } from './rgb-image.js';

/** 'default' stretches; 'fill' fits inside and pads with the edge rows/columns; 'crop' covers and cuts. */
export type ResizeMode = 'default' | 'fill' | 'crop';

export const RESIZE_MODES: readonly ResizeMode[] = ['default', 'fill', 'crop'];

/** `crops_coords`: left, top, right, bottom in whole pixels. */
export type CropsCoords = readonly [left: number, top: number, right: number, bottom: number];

export interface ResizeModeOptions {
  resample: ResampleFilter;
  /** Used by 'default' only: diffusers' 'fill' and 'crop' resize without it. */
  reducingGap: number | null;
}

export function resizeWithMode(image: RgbImage, width: number, height: number, mode: ResizeMode, options: ResizeModeOptions): RgbImage {
  if (mode === 'default') return resizeImageSync(image, width, height, options.resample, { reducingGap: options.reducingGap });
  if (mode === 'fill') return resizeAndFill(image, width, height, options.resample);
  if (mode === 'crop') return resizeAndCrop(image, width, height, options.resample);
  throw new ImageInputError(`resizeMode must be one of ${RESIZE_MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
}

/**
 * Scale to fit inside width x height, centre it, and fill the bars on both
 * sides from the image's first and last rows (or columns): PIL resizes an
 * empty box at that edge to the bar's size, with PIL's default BICUBIC, so
 * the bar repeats a blend of the two edge rows.
 */
function resizeAndFill(image: RgbImage, width: number, height: number, resample: ResampleFilter): RgbImage {
  const ratio = width / height;
  const sourceRatio = image.width / image.height;
  const scaledWidth = ratio < sourceRatio ? width : Math.floor((image.width * height) / image.height);
  const scaledHeight = ratio >= sourceRatio ? height : Math.floor((image.height * width) / image.width);
  const resized = scaledImage(image, scaledWidth, scaledHeight, resample);
  const canvas = blankRgb(width, height);
  paste(canvas, resized, Math.floor(width / 2) - Math.floor(scaledWidth / 2), Math.floor(height / 2) - Math.floor(scaledHeight / 2));
  if (ratio < sourceRatio) {
    const bar = Math.floor(height / 2) - Math.floor(scaledHeight / 2);
    if (bar > 0) {
      paste(canvas, resizeImageSync(resized, width, bar, 'bicubic', { box: [0, 0, width, 0] }), 0, 0);
      paste(canvas, resizeImageSync(resized, width, bar, 'bicubic', { box: [0, resized.height, width, resized.height] }), 0, bar + scaledHeight);
    }
  } else if (ratio > sourceRatio) {
    const bar = Math.floor(width / 2) - Math.floor(scaledWidth / 2);
    if (bar > 0) {
      paste(canvas, resizeImageSync(resized, bar, height, 'bicubic', { box: [0, 0, 0, height] }), 0, 0);
      paste(canvas, resizeImageSync(resized, bar, height, 'bicubic', { box: [resized.width, 0, resized.width, height] }), bar + scaledWidth, 0);
    }
  }
  return canvas;
}

/** Scale to cover width x height, centre it, and cut what sticks out. */
function resizeAndCrop(image: RgbImage, width: number, height: number, resample: ResampleFilter): RgbImage {
  const ratio = width / height;
  const sourceRatio = image.width / image.height;
  const scaledWidth = ratio > sourceRatio ? width : Math.floor((image.width * height) / image.height);
  const scaledHeight = ratio <= sourceRatio ? height : Math.floor((image.height * width) / image.width);
  const resized = scaledImage(image, scaledWidth, scaledHeight, resample);
  const canvas = blankRgb(width, height);
  paste(canvas, resized, Math.floor(width / 2) - Math.floor(scaledWidth / 2), Math.floor(height / 2) - Math.floor(scaledHeight / 2));
  return canvas;
}

function scaledImage(image: RgbImage, width: number, height: number, resample: ResampleFilter): RgbImage {
  if (width < 1 || height < 1) {
    throw new ImageInputError(
      `A ${image.width}x${image.height} image keeps its aspect ratio at ${width}x${height}, which is empty; ` +
        "use resizeMode 'default' or a less extreme size.",
    );
  }
  return resizeImageSync(image, width, height, resample);
}

function blankRgb(width: number, height: number): RgbImage {
  return { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
}

/** PIL's `paste` onto an RGB canvas: clipped at its edges, a grey source written to all three channels. */
function paste(canvas: RgbImage, source: RgbImage, left: number, top: number): void {
  const x0 = Math.max(left, 0);
  const x1 = Math.min(left + source.width, canvas.width);
  for (let y = Math.max(top, 0); y < Math.min(top + source.height, canvas.height); y++) {
    const sy = y - top;
    for (let x = x0; x < x1; x++) {
      const s = (sy * source.width + (x - left)) * source.channels;
      const o = (y * canvas.width + x) * 3;
      if (source.channels === 3) {
        canvas.data[o] = source.data[s]!;
        canvas.data[o + 1] = source.data[s + 1]!;
        canvas.data[o + 2] = source.data[s + 2]!;
      } else {
        canvas.data.fill(source.data[s]!, o, o + 3);
      }
    }
  }
}

/** PIL's `image.crop(coords)`: the region, with zeros where it lies outside the image. */
export function cropImage(image: RgbImage, coords: CropsCoords): RgbImage {
  if (!Array.isArray(coords) || coords.length !== 4 || !coords.every(Number.isInteger)) {
    throw new ImageInputError(`cropsCoords must be four whole pixels [left, top, right, bottom], got ${JSON.stringify(coords)}.`);
  }
  const [left, top, right, bottom] = coords;
  if (right <= left || bottom <= top) {
    throw new ImageInputError(`cropsCoords ${JSON.stringify(coords)} is empty; right must exceed left and bottom top.`);
  }
  const { channels } = image;
  const width = right - left;
  const height = bottom - top;
  const out = new Uint8Array(width * height * channels);
  const x0 = Math.max(left, 0);
  const x1 = Math.min(right, image.width);
  for (let y = Math.max(top, 0); y < Math.min(bottom, image.height); y++) {
    if (x1 <= x0) break;
    const from = (y * image.width + x0) * channels;
    out.set(image.data.subarray(from, from + (x1 - x0) * channels), ((y - top) * width + (x0 - left)) * channels);
  }
  return { width, height, channels, data: out };
}
