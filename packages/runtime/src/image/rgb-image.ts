import { ImageInputError } from './image-errors.js';

/**
 * An 8-bit image as rows of interleaved pixels (HWC), the Node counterpart
 * of a PIL image in mode 'RGB' (3 channels) or 'L' (1 channel).
 */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3 | 1;
  data: Uint8Array;
}

export function isRgbImage(value: unknown): value is RgbImage {
  if (value === null || typeof value !== 'object') return false;
  const { width, height, channels, data } = value as Partial<RgbImage>;
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    (channels === 3 || channels === 1) &&
    data instanceof Uint8Array &&
    data.length === width! * height! * channels
  );
}

/** Throws a message that says what is wrong instead of failing deep in a loop. */
export function assertRgbImage(value: unknown, what = 'image'): asserts value is RgbImage {
  if (isRgbImage(value)) {
    if (value.width < 1 || value.height < 1) {
      throw new ImageInputError(`The ${what} is ${value.width}x${value.height}; it needs at least one pixel.`);
    }
    return;
  }
  if (value !== null && typeof value === 'object' && 'data' in value) {
    const { width, height, channels, data } = value as Record<string, unknown>;
    throw new ImageInputError(
      `The ${what} is not a valid RgbImage: width ${String(width)}, height ${String(height)}, channels ${String(channels)} ` +
        `need a Uint8Array of width*height*channels bytes (channels 3 or 1), got ${describeData(data)}.`,
    );
  }
  throw new ImageInputError(`Expected an RgbImage { width, height, channels, data } as the ${what}; load files and URLs with loadImage().`);
}

/**
 * PIL's `convert('L')`: ITU-R 601-2 luma in PIL's 16-bit fixed point,
 * L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, i.e. R*299/1000 +
 * G*587/1000 + B*114/1000 rounded half up.
 */
export function toGrayscale(image: RgbImage): RgbImage {
  if (image.channels === 1) return image;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels);
  const src = image.data;
  for (let p = 0, s = 0; p < pixels; p++, s += 3) {
    out[p] = (src[s]! * 19595 + src[s + 1]! * 38470 + src[s + 2]! * 7471 + 0x8000) >>> 16;
  }
  return { width: image.width, height: image.height, channels: 1, data: out };
}

/** PIL's `convert('RGB')` of an 'L' image: the grey value in all three channels. */
export function toRgb(image: RgbImage): RgbImage {
  if (image.channels === 3) return image;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) out.fill(image.data[p]!, p * 3, p * 3 + 3);
  return { width: image.width, height: image.height, channels: 3, data: out };
}

function describeData(data: unknown): string {
  if (data instanceof Uint8Array) return `${data.length} bytes`;
  if (data === null || data === undefined) return String(data);
  return (data as object).constructor?.name ?? typeof data;
}
