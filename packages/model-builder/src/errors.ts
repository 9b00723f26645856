import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * What the builder throws, always before any session is created. Each error
 * names the file and, where there is one, the key (a config field or a
 * tensor name), and says what to do.
 */
export class ModelBuildError extends ModularDiffusersError {
  static override readonly code: string = 'MODEL_BUILD';
  override name = 'ModelBuildError';
  constructor(
    message: string,
    /** The file the problem is in (config.json, a safetensors file). */
    readonly file: string | null = null,
    /** The config field or tensor name, when there is one. */
    readonly key: string | null = null,
  ) {
    super(message);
  }
}

/** A safetensors file that is truncated, or whose header is malformed or lies about its offsets. */
export class SafetensorsFormatError extends ModelBuildError {
  static override readonly code: string = 'SAFETENSORS_FORMAT';
  override name = 'SafetensorsFormatError';
}

/** A config field or value the builder does not support. */
export class UnsupportedConfigError extends ModelBuildError {
  static override readonly code: string = 'UNSUPPORTED_CONFIG';
  override name = 'UnsupportedConfigError';
}

/** A weight that is missing, misnamed, of the wrong shape or dtype. */
export class WeightMismatchError extends ModelBuildError {
  static override readonly code: string = 'WEIGHT_MISMATCH';
  override name = 'WeightMismatchError';
}
