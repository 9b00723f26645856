import { ImageInputError } from './image-errors.js';
import { RESAMPLE_FILTERS, type ResampleFilter } from './resize-image.js';

/** diffusers' VaeImageProcessor config, in TypeScript casing. */
export interface VaeImageProcessorConfig {
  /** Resize to `height`/`width`, by default the image size rounded down to multiples of `vaeScaleFactor`. */
  doResize: boolean;
  vaeScaleFactor: number;
  /** A tensor with this many channels is taken to be latents and passed through untouched. */
  vaeLatentChannels: number;
  resample: ResampleFilter;
  /**
   * PIL's `reducing_gap` for resize_mode 'default': null (diffusers' default)
   * resamples in one pass; a number >= 1 first box-averages by the whole
   * factor `floor(scale / reducingGap)` when the image shrinks that much.
   */
  reducingGap: number | null;
  /** [0,1] -> [-1,1]. */
  doNormalize: boolean;
  /** >= 0.5 -> 1, else 0. */
  doBinarize: boolean;
  doConvertRgb: boolean;
  doConvertGrayscale: boolean;
}

export const DEFAULT_VAE_IMAGE_PROCESSOR_CONFIG: Readonly<VaeImageProcessorConfig> = Object.freeze({
  doResize: true,
  vaeScaleFactor: 8,
  vaeLatentChannels: 4,
  resample: 'lanczos',
  reducingGap: null,
  doNormalize: true,
  doBinarize: false,
  doConvertRgb: false,
  doConvertGrayscale: false,
});

/** The snake_case keys diffusers writes, mapped to ours. */
const SNAKE_TO_CAMEL = {
  do_resize: 'doResize',
  vae_scale_factor: 'vaeScaleFactor',
  vae_latent_channels: 'vaeLatentChannels',
  resample: 'resample',
  reducing_gap: 'reducingGap',
  do_normalize: 'doNormalize',
  do_binarize: 'doBinarize',
  do_convert_rgb: 'doConvertRgb',
  do_convert_grayscale: 'doConvertGrayscale',
} as const satisfies Record<string, keyof VaeImageProcessorConfig>;

type SnakeConfig = { [K in keyof typeof SNAKE_TO_CAMEL]?: VaeImageProcessorConfig[(typeof SNAKE_TO_CAMEL)[K]] };

/** Either casing, or a mix; keys starting with `_` (`_class_name`, `_diffusers_version`) are ignored. */
export type VaeImageProcessorConfigInput = Partial<VaeImageProcessorConfig> & SnakeConfig & Record<string, unknown>;

const CAMEL_KEYS = new Set<string>(Object.values(SNAKE_TO_CAMEL));

/**
 * Resolves a config given in camelCase and/or diffusers' snake_case into a
 * full, checked config. Unknown keys are reported in `unusedKeys` rather than
 * failing, as diffusers ignores keys a newer version wrote.
 */
export function resolveVaeImageProcessorConfig(input: VaeImageProcessorConfigInput = {}): {
  config: VaeImageProcessorConfig;
  unusedKeys: string[];
} {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ImageInputError('A VaeImageProcessor config must be an object such as { do_normalize: false }.');
  }
  const given: Partial<Record<keyof VaeImageProcessorConfig, unknown>> = {};
  const unusedKeys: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key.startsWith('_')) continue;
    const camel = (SNAKE_TO_CAMEL as Record<string, keyof VaeImageProcessorConfig>)[key] ?? (CAMEL_KEYS.has(key) ? (key as keyof VaeImageProcessorConfig) : undefined);
    if (camel === undefined) {
      unusedKeys.push(key);
      continue;
    }
    if (camel in given && given[camel] !== value) {
      throw new ImageInputError(`The config sets ${camel} twice with different values (${String(given[camel])} and ${String(value)}); keep one.`);
    }
    given[camel] = value;
  }
  const config: VaeImageProcessorConfig = { ...DEFAULT_VAE_IMAGE_PROCESSOR_CONFIG, ...(given as Partial<VaeImageProcessorConfig>) };

  for (const key of ['doResize', 'doNormalize', 'doBinarize', 'doConvertRgb', 'doConvertGrayscale'] as const) {
    if (typeof config[key] !== 'boolean') {
      throw new ImageInputError(`VaeImageProcessor config ${key} must be true or false, got ${JSON.stringify(config[key])}.`);
    }
  }
  for (const key of ['vaeScaleFactor', 'vaeLatentChannels'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new ImageInputError(`VaeImageProcessor config ${key} must be a positive integer, got ${JSON.stringify(config[key])}.`);
    }
  }
  if (!RESAMPLE_FILTERS.includes(config.resample)) {
    throw new ImageInputError(`VaeImageProcessor config resample must be one of ${RESAMPLE_FILTERS.join(', ')}, got ${JSON.stringify(config.resample)}.`);
  }
  if (config.reducingGap !== null && !(typeof config.reducingGap === 'number' && config.reducingGap >= 1 && Number.isFinite(config.reducingGap))) {
    throw new ImageInputError(
      `VaeImageProcessor config reducing_gap must be null (no pre-reduction) or a number >= 1 (PIL's rule), got ${JSON.stringify(config.reducingGap)}.`,
    );
  }
  if (config.doConvertRgb && config.doConvertGrayscale) {
    throw new ImageInputError(
      'do_convert_rgb and do_convert_grayscale cannot both be true; set do_convert_grayscale to false for RGB or do_convert_rgb to false for grayscale.',
    );
  }
  return { config, unusedKeys };
}

/** The config as diffusers writes it (snake_case keys). */
export function vaeImageProcessorConfigToDict(config: VaeImageProcessorConfig): Record<string, unknown> {
  const dict: Record<string, unknown> = {};
  for (const [snake, camel] of Object.entries(SNAKE_TO_CAMEL)) dict[snake] = config[camel];
  return dict;
}
