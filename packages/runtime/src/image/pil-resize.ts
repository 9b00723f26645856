/**
 * PIL's `Image.resize(size, resample, box, reducing_gap)` on 'RGB' and 'L'
 * images, bit for bit: the Python-level steps (the same-size copy, the
 * `reducing_gap` pre-reduction and its box arithmetic in doubles) around the
 * C resample of ./pil-resample.ts.
 */
import { ImageInputError } from './image-errors.js';
import { reducePil, type PixelBox } from './pil-reduce.js';
import { assertPilBox, resamplePil, type PilBox, type PilFilter } from './pil-resample.js';
import { assertRgbImage, type RgbImage } from './rgb-image.js';

export type { PilBox, PilFilter } from './pil-resample.js';

export interface PilResizeOptions {
  /** PIL's `resample`. diffusers passes `PIL_INTERPOLATION[config.resample]`. */
  filter: PilFilter;
  /** PIL's `box`: the source region to scale, by default the whole image. */
  box?: PilBox;
  /**
   * PIL's `reducing_gap` (>= 1, or null for none, diffusers' default): when the
   * image shrinks by at least twice this, it is first box-averaged by the whole
   * factor `floor(scale / reducingGap)`, then resampled. Faster, not identical.
   */
  reducingGap?: number | null;
}

/** The filter widths PIL's `_get_safe_box` uses. */
const SUPPORT: Record<PilFilter, number> = { nearest: 0, bilinear: 1, bicubic: 2, lanczos: 3 };

/** `image.resize((width, height), resample=filter, box=box, reducing_gap=reducingGap)` of PIL. */
export function pilResize(image: RgbImage, width: number, height: number, options: PilResizeOptions): RgbImage {
  assertRgbImage(image);
  const { filter, reducingGap = null } = options;
  if (reducingGap !== null && !(typeof reducingGap === 'number' && reducingGap >= 1)) {
    throw new ImageInputError(`reducing_gap must be 1.0 or greater (or null for none), got ${JSON.stringify(reducingGap)}.`);
  }
  if (options.box !== undefined) assertPilBox(options.box);
  let box: PilBox = options.box ?? [0, 0, image.width, image.height];
  if (width === image.width && height === image.height && box[0] === 0 && box[1] === 0 && box[2] === image.width && box[3] === image.height) {
    return { ...image, data: image.data.slice() };
  }
  let source = image;
  if (reducingGap !== null && filter !== 'nearest' && Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) {
    const xFactor = Math.trunc((box[2] - box[0]) / width / reducingGap) || 1;
    const yFactor = Math.trunc((box[3] - box[1]) / height / reducingGap) || 1;
    if (xFactor > 1 || yFactor > 1) {
      const reduceBox = safeBox(image, width, height, filter, box);
      source = reducePil(image, xFactor, yFactor, reduceBox);
      box = [
        (box[0] - reduceBox[0]) / xFactor,
        (box[1] - reduceBox[1]) / yFactor,
        (box[2] - reduceBox[0]) / xFactor,
        (box[3] - reduceBox[1]) / yFactor,
      ];
    }
  }
  return resamplePil(source, width, height, filter, box);
}

/** The box grown by the filter's reach, in whole pixels (PIL's `_get_safe_box`). */
function safeBox(image: RgbImage, width: number, height: number, filter: PilFilter, box: PilBox): PixelBox {
  const support = SUPPORT[filter] - 0.5;
  const supportX = support * ((box[2] - box[0]) / width);
  const supportY = support * ((box[3] - box[1]) / height);
  return [
    Math.max(0, Math.trunc(box[0] - supportX)),
    Math.max(0, Math.trunc(box[1] - supportY)),
    Math.min(image.width, Math.ceil(box[2] + supportX)),
    Math.min(image.height, Math.ceil(box[3] + supportY)),
  ];
}
