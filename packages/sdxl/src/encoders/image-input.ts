/** Checks image inputs up front: what VaeImageProcessor.preprocess takes, with a message saying how to get it. */
import { Tensor, isRgbImage, type RgbImage, type VaeImageInput } from '@modular-diffusers/runtime';
import { SdxlInputError } from '../errors.js';

export function isImageInput(value: unknown): value is VaeImageInput {
  if (isRgbImage(value) || value instanceof Tensor) return true;
  return Array.isArray(value) && value.length > 0 && (value.every(isRgbImage) || value.every((v) => v instanceof Tensor));
}

/** Throws unless `value` (when given) is an RgbImage, a float32 Tensor, or a non-empty list of one kind of them. */
export function checkImageInput(value: unknown, name: string): void {
  if (value == null || isImageInput(value)) return;
  const got = typeof value === 'string' ? `the string '${value.length > 60 ? `${value.slice(0, 57)}...` : value}'` : describe(value);
  throw new SdxlInputError(
    `\`${name}\` must be an RgbImage { width, height, channels, data }, a float32 Tensor [batch, channels, height, width], ` +
      `or a list of one kind of them; got ${got}. Load files, URLs and buffers with loadImage() from '@modular-diffusers/runtime'.`,
  );
}

/** The [height, width] of each image of an input (RgbImages, or a tensor's last two dims per batch row). */
export function imageSizes(value: VaeImageInput): Array<[number, number]> {
  const items: readonly (RgbImage | Tensor)[] = Array.isArray(value) ? value : [value as RgbImage | Tensor];
  return items.flatMap((item): Array<[number, number]> => {
    if (item instanceof Tensor) {
      const rows = item.rank === 4 ? item.shape[0]! : 1;
      return new Array(rows).fill([item.shape.at(-2)!, item.shape.at(-1)!]);
    }
    return [[item.height, item.width]];
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list mixing other values';
  if (value !== null && typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return typeof value;
}
