import { Tensor } from '../tensor/tensor.js';
import { ImageInputError } from './image-errors.js';
import { binarize, denormalize, denormalizedToImages, imagesToTensor, minimum, normalize, toChannelsLast } from './image-tensor.js';
import { cropImage, RESIZE_MODES, resizeWithMode, type CropsCoords, type ResizeMode } from './resize-mode.js';
import { resizeTensor } from './resize-tensor.js';
import { PipelineImage } from './pipeline-image.js';
import { assertRgbImage, isRgbImage, toGrayscale, toRgb, type RgbImage } from './rgb-image.js';
import {
  resolveVaeImageProcessorConfig,
  vaeImageProcessorConfigToDict,
  type VaeImageProcessorConfig,
  type VaeImageProcessorConfigInput,
} from './vae-image-processor-config.js';

/** What `preprocess` takes: images (like PIL images) or float32 tensors (like torch tensors, NCHW or CHW). */
export type VaeImageInput = RgbImage | readonly RgbImage[] | Tensor | readonly Tensor[];

export interface VaePreprocessOptions {
  height?: number;
  width?: number;
  /**
   * The value range of a tensor input. 'auto' does what diffusers does: a
   * tensor with a negative value is taken to be in [-1,1] already and is not
   * normalized again (diffusers also warns; we do not).
   */
  tensorRange?: 'auto' | '[0,1]' | '[-1,1]';
  /**
   * diffusers' `resize_mode`, for images: 'default' (stretch to the size, PIL's
   * resize with the config's resample and reducing_gap), 'fill' (fit inside and
   * extend the edges) or 'crop' (cover and cut). 'fill' and 'crop' give RGB.
   */
  resizeMode?: ResizeMode;
  /** diffusers' `crops_coords`: each image is cropped to this box (PIL's crop) before resizing. Images only. */
  cropsCoords?: CropsCoords | null;
}

export type VaeOutputType = 'pil' | 'np' | 'pt' | 'latent';

export interface VaePostprocessOptions<T extends VaeOutputType = VaeOutputType> {
  /** 'pil' (default): PipelineImage[] (RgbImages that can `save(path)`); 'np': NHWC float32 in [0,1]; 'pt': NCHW; 'latent': the input unchanged. */
  outputType?: T;
  /** Per batch item or for all; by default `doNormalize` of the config. */
  doDenormalize?: boolean | readonly boolean[];
}

const OUTPUT_TYPES: readonly VaeOutputType[] = ['pil', 'np', 'pt', 'latent'];

/**
 * diffusers' `VaeImageProcessor`: turns images into the NCHW float tensors a
 * VAE encoder takes, and decoder output back into images.
 */
export class VaeImageProcessor {
  readonly config: Readonly<VaeImageProcessorConfig>;
  /** Config keys this processor does not know (kept so callers can warn). */
  readonly unusedConfigKeys: readonly string[];

  constructor(config: VaeImageProcessorConfigInput = {}) {
    const resolved = resolveVaeImageProcessorConfig(config);
    this.config = Object.freeze(resolved.config);
    this.unusedConfigKeys = Object.freeze(resolved.unusedKeys);
  }

  /** From a config in either casing, e.g. diffusers' `{ do_normalize: false, do_convert_grayscale: true }`. */
  static fromConfig(config: VaeImageProcessorConfigInput = {}): VaeImageProcessor {
    return new VaeImageProcessor(config);
  }

  /** The config with diffusers' snake_case keys, as `save_config` writes it. */
  toConfigDict(): Record<string, unknown> {
    return { _class_name: 'VaeImageProcessor', ...vaeImageProcessorConfigToDict(this.config) };
  }

  /**
   * diffusers' `get_default_height_width`: the given or the image's size,
   * rounded down to a multiple of `vaeScaleFactor`.
   */
  getDefaultHeightWidth(image: RgbImage | Tensor, height?: number, width?: number): { height: number; width: number } {
    const h = height ?? (isRgbImage(image) ? image.height : (image.shape[2] as number));
    const w = width ?? (isRgbImage(image) ? image.width : (image.shape[3] as number));
    const factor = this.config.vaeScaleFactor;
    for (const [name, value] of [['height', h], ['width', w]] as const) {
      if (!Number.isInteger(value) || value < factor) {
        throw new ImageInputError(
          `${name} ${value} rounds down to ${Number.isInteger(value) ? value - (value % factor) : 'nothing'} with vae_scale_factor ${factor}; ` +
            `pass a ${name} of at least ${factor} (for a latent-size mask use a processor with vaeScaleFactor 1).`,
        );
      }
    }
    return { height: h - (h % factor), width: w - (w % factor) };
  }

  /** Images or tensors -> an NCHW float32 tensor: resized, converted, scaled to [0,1], normalized, binarized per the config. */
  async preprocess(image: VaeImageInput, options: VaePreprocessOptions = {}): Promise<Tensor<'float32'>> {
    const { height, width } = options;
    const resizeMode = options.resizeMode ?? 'default';
    const cropsCoords = options.cropsCoords ?? null;
    if (!RESIZE_MODES.includes(resizeMode)) {
      throw new ImageInputError(`resizeMode must be one of ${RESIZE_MODES.join(', ')}, got ${JSON.stringify(resizeMode)}.`);
    }
    const batch: readonly unknown[] = Array.isArray(image) ? image : [image];
    if (batch.length === 0) throw new ImageInputError('preprocess() got an empty list; pass at least one image.');

    let tensor: Tensor<'float32'>;
    let valuesMayBeSigned = false;
    if (batch.every(isRgbImage)) {
      let images = batch as RgbImage[];
      images.forEach((img, i) => assertRgbImage(img, `image ${i}`));
      if (cropsCoords !== null) images = images.map((img) => cropImage(img, cropsCoords));
      if (this.config.doResize) {
        const size = this.getDefaultHeightWidth(images[0]!, height, width);
        const { resample, reducingGap } = this.config;
        images = images.map((img) => resizeWithMode(img, size.width, size.height, resizeMode, { resample, reducingGap }));
      }
      if (this.config.doConvertRgb) images = images.map(toRgb);
      else if (this.config.doConvertGrayscale) images = images.map(toGrayscale);
      tensor = imagesToTensor(images);
    } else if (batch.every((item) => item instanceof Tensor)) {
      if (resizeMode !== 'default' || cropsCoords !== null) {
        throw new ImageInputError(
          `resizeMode '${resizeMode}' and cropsCoords work on images only (as in diffusers); pass RgbImages, or crop and resize the tensor yourself.`,
        );
      }
      const stacked = this.stackTensors(image as Tensor | readonly Tensor[]);
      // Latents go straight through.
      if (stacked.shape[1] === this.config.vaeLatentChannels) return stacked;
      const size = this.getDefaultHeightWidth(stacked, height, width);
      tensor = this.config.doResize ? resizeTensor(stacked, size.height, size.width) : stacked;
      const range = options.tensorRange ?? 'auto';
      valuesMayBeSigned = range === '[-1,1]' || (range === 'auto' && minimum(tensor) < 0);
    } else {
      throw new ImageInputError(
        'preprocess() takes an RgbImage, a float32 Tensor, or an array of one kind of them; load files with loadImage() first.',
      );
    }

    if (this.config.doNormalize && !valuesMayBeSigned) tensor = normalize(tensor);
    if (this.config.doBinarize) tensor = binarize(tensor);
    return tensor;
  }

  /** Decoder output (NCHW) -> images or arrays, denormalized from [-1,1] to [0,1] unless told otherwise. */
  postprocess(tensor: Tensor, options?: VaePostprocessOptions<'pil'> & { outputType?: 'pil' }): PipelineImage[];
  postprocess(tensor: Tensor, options: VaePostprocessOptions<'np' | 'pt' | 'latent'> & { outputType: 'np' | 'pt' | 'latent' }): Tensor<'float32'>;
  postprocess(tensor: Tensor, options?: VaePostprocessOptions): RgbImage[] | Tensor<'float32'>;
  postprocess(tensor: Tensor, options: VaePostprocessOptions = {}): RgbImage[] | Tensor<'float32'> {
    if (!(tensor instanceof Tensor) || tensor.dtype !== 'float32' || tensor.rank !== 4) {
      throw new ImageInputError(
        `postprocess() needs a float32 NCHW tensor, got ${tensor instanceof Tensor ? tensor.toString() : typeof tensor}; convert float16 decoder output to float32 first.`,
      );
    }
    const input = tensor as Tensor<'float32'>;
    const outputType = options.outputType ?? 'pil';
    if (!OUTPUT_TYPES.includes(outputType)) {
      throw new ImageInputError(`outputType must be one of ${OUTPUT_TYPES.join(', ')}, got ${JSON.stringify(outputType)}.`);
    }
    if (outputType === 'latent') return input;

    const batchSize = input.shape[0]!;
    const flag = options.doDenormalize ?? this.config.doNormalize;
    const which = typeof flag === 'boolean' ? new Array<boolean>(batchSize).fill(flag) : [...flag];
    if (which.length !== batchSize) {
      throw new ImageInputError(`doDenormalize has ${which.length} entries for a batch of ${batchSize}; give one per image or a single boolean.`);
    }
    if (outputType === 'pil') return denormalizedToImages(input, which).map((image) => new PipelineImage(image));
    const images = denormalize(input, which);
    if (outputType === 'pt') return images;
    return toChannelsLast(images);
  }

  /** torch.cat / torch.stack of diffusers' tensor path, with its grayscale unsqueeze. */
  private stackTensors(input: Tensor | readonly Tensor[]): Tensor<'float32'> {
    const grayscale = this.config.doConvertGrayscale;
    let list: Tensor[] = Array.isArray(input) ? [...input] : [input as Tensor];
    list.forEach((t, i) => {
      if (t.dtype !== 'float32') {
        throw new ImageInputError(`Tensor ${i} is ${t.dtype}; preprocess() takes float32 tensors in [0,1] or [-1,1].`);
      }
    });
    // A single 3-d tensor for a grayscale processor is batch x height x width.
    if (!Array.isArray(input) && grayscale && list[0]!.rank === 3) {
      const [a, b, c] = list[0]!.shape as [number, number, number];
      list = [list[0]!.reshape([a, 1, b, c])];
    }
    const first = list[0]!;
    // Nothing to concatenate: no copy (later steps never write into their input).
    if (list.length === 1 && first.rank === 4) return first as Tensor<'float32'>;
    let stacked: Tensor;
    if (first.rank === 4) {
      const [, c, h, w] = first.shape;
      for (const t of list) {
        if (t.rank !== 4 || t.shape[1] !== c || t.shape[2] !== h || t.shape[3] !== w) {
          throw new ImageInputError(`Cannot concatenate tensors of shapes ${first.toString()} and ${t.toString()}.`);
        }
      }
      const data = new Float32Array(list.reduce((sum, t) => sum + t.size, 0));
      let offset = 0;
      for (const t of list) {
        data.set(t.data as Float32Array, offset);
        offset += t.size;
      }
      stacked = new Tensor('float32', data, [data.length / (c! * h! * w!), c!, h!, w!]);
    } else {
      for (const t of list) {
        if (t.shape.join() !== first.shape.join()) {
          throw new ImageInputError(`Cannot stack tensors of shapes ${first.toString()} and ${t.toString()}.`);
        }
      }
      const data = new Float32Array(list.length * first.size);
      list.forEach((t, i) => data.set(t.data as Float32Array, i * first.size));
      stacked = new Tensor('float32', data, [list.length, ...first.shape]);
    }
    if (grayscale && stacked.rank === 3) {
      const [n, h, w] = stacked.shape as [number, number, number];
      stacked = stacked.reshape([n, 1, h, w]);
    }
    if (stacked.rank !== 4) {
      throw new ImageInputError(`preprocess() takes tensors shaped [batch, channels, height, width] or [channels, height, width]; got ${stacked.toString()}.`);
    }
    return stacked as Tensor<'float32'>;
  }
}
