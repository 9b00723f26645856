/**
 * What the builder throws, always before any session is created. Each error
 * names the file and, where there is one, the key (a config field or a
 * tensor name), and says what to do.
 */
export class ModelBuildError extends Error {
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
  override name = 'SafetensorsFormatError';
}

/** A config field or value the builder does not support. */
export class UnsupportedConfigError extends ModelBuildError {
  override name = 'UnsupportedConfigError';
}

/** A weight that is missing, misnamed, of the wrong shape or dtype. */
export class WeightMismatchError extends ModelBuildError {
  override name = 'WeightMismatchError';
}
