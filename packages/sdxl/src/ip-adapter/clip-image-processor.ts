/**
 * transformers' CLIPImageProcessor, the IP-Adapter `feature_extractor`:
 * RGB, resize so the shortest edge is `size` (bicubic), center crop to
 * `crop_size`, rescale to [0, 1], normalise with CLIP's mean and std, giving
 * the `pixel_values` [N, 3, crop, crop] an image encoder takes.
 */
import { InvalidArgumentError } from '@modular-diffusers/core';
import { Tensor, assertRgbImage, hasDType, isRgbImage, resizeImage, toRgb, type ResampleFilter, type RgbImage } from '@modular-diffusers/runtime';

/** OpenAI CLIP's normalisation constants (transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD). */
export const CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

export interface ClipImageProcessorConfig {
  /** Shortest edge after resizing. */
  size: number;
  crop_size: number;
  resample: ResampleFilter;
  image_mean: readonly number[];
  image_std: readonly number[];
}

export type ClipImageInput = RgbImage | readonly RgbImage[] | Tensor;

export class CLIPImageProcessor {
  readonly config: Readonly<ClipImageProcessorConfig>;

  constructor(config: Record<string, unknown> = {}) {
    this.config = Object.freeze({
      size: edge(config.size, 'size'),
      crop_size: edge(config.crop_size ?? config.size, 'crop_size'),
      resample: (config.resample as ResampleFilter | undefined) ?? 'bicubic',
      image_mean: triple(config.image_mean, CLIP_MEAN, 'image_mean'),
      image_std: triple(config.image_std, CLIP_STD, 'image_std'),
    });
  }

  static fromConfig(config: Record<string, unknown> = {}): CLIPImageProcessor {
    return new CLIPImageProcessor(config);
  }

  /**
   * Images -> pixel_values. A Tensor is taken to be pixel_values already and
   * returned as is, as diffusers skips the feature extractor for tensors.
   */
  async preprocess(images: ClipImageInput): Promise<Tensor<'float32'>> {
    if (images instanceof Tensor) {
      if (!hasDType(images, 'float32') || images.rank !== 4 || images.shape[1] !== 3) {
        throw new InvalidArgumentError(
          `A tensor given as an IP-Adapter image must be CLIP pixel_values, float32 [N, 3, ${this.config.crop_size}, ${this.config.crop_size}]; got ${images.toString()}. Pass an RgbImage instead.`,
        );
      }
      return images;
    }
    const list: readonly unknown[] = Array.isArray(images) ? images : [images];
    if (list.length === 0 || !list.every(isRgbImage)) {
      throw new InvalidArgumentError(
        'The IP-Adapter image must be an RgbImage (load files with loadImage()), a list of them, or CLIP pixel_values as a Tensor.',
      );
    }
    const crop = this.config.crop_size;
    const out = new Float32Array(list.length * 3 * crop * crop);
    for (let n = 0; n < list.length; n++) {
      const image = list[n]!;
      assertRgbImage(image, `IP-Adapter image ${n}`);
      const cropped = await this.resizeAndCrop(toRgb(image));
      this.normalizeInto(cropped, out, n * 3 * crop * crop);
    }
    return new Tensor('float32', out, [list.length, 3, crop, crop]);
  }

  /** The shortest edge to `size` (the other edge truncated, as transformers does), then the centre `crop_size` square. */
  private async resizeAndCrop(image: RgbImage): Promise<RgbImage> {
    const { size, crop_size: crop } = this.config;
    const { width, height } = image;
    const [newWidth, newHeight] =
      width <= height ? [size, Math.trunc((size * height) / width)] : [Math.trunc((size * width) / height), size];
    const resized = await resizeImage(image, newWidth, newHeight, this.config.resample);
    if (resized.width < crop || resized.height < crop) {
      throw new InvalidArgumentError(`crop_size ${crop} is larger than the resized image ${resized.width}x${resized.height}; use crop_size <= size.`);
    }
    const top = Math.floor((resized.height - crop) / 2);
    const left = Math.floor((resized.width - crop) / 2);
    const data = new Uint8Array(crop * crop * 3);
    for (let y = 0; y < crop; y++) {
      const from = ((top + y) * resized.width + left) * 3;
      data.set(resized.data.subarray(from, from + crop * 3), y * crop * 3);
    }
    return { width: crop, height: crop, channels: 3, data };
  }

  /** (x / 255 - mean) / std per channel, each step rounded to float32 as numpy float32 arrays are. */
  private normalizeInto(image: RgbImage, out: Float32Array, offset: number): void {
    const plane = image.width * image.height;
    for (let c = 0; c < 3; c++) {
      const mean = Math.fround(this.config.image_mean[c]!);
      const std = Math.fround(this.config.image_std[c]!);
      for (let p = 0; p < plane; p++) {
        const x = Math.fround(image.data[p * 3 + c]! / 255);
        out[offset + c * plane + p] = Math.fround(x - mean) / std;
      }
    }
  }
}

function edge(value: unknown, name: string): number {
  if (value === undefined || value === null) return 224;
  const n = typeof value === 'object' ? ((value as Record<string, unknown>).shortest_edge ?? (value as Record<string, unknown>).height) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`CLIPImageProcessor ${name} must be a positive integer (or { shortest_edge }), got ${JSON.stringify(value)}.`);
  }
  return n;
}

function triple(value: unknown, fallback: readonly number[], name: string): readonly number[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number')) {
    throw new InvalidArgumentError(`CLIPImageProcessor ${name} must be three numbers (R, G, B), got ${JSON.stringify(value)}.`);
  }
  return value as number[];
}
