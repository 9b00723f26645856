/**
 * The `code` of every error class of @modular-diffusers/model-builder: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const MODEL_BUILDER_ERROR_CODES = [
  'ARCHITECTURE_MISMATCH', // ArchitectureMismatchError
  'MODEL_BUILD', // ModelBuildError
  'SAFETENSORS_FORMAT', // SafetensorsFormatError
  'UNSUPPORTED_CONFIG', // UnsupportedConfigError
  'WEIGHT_MISMATCH', // WeightMismatchError
] as const;

export type ModelBuilderErrorCode = (typeof MODEL_BUILDER_ERROR_CODES)[number];
