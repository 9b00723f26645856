/**
 * The `code` of every error class of @modular-diffusers/sdxl: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const SDXL_ERROR_CODES = [
  'FLOAT16_OVERFLOW', // Float16OverflowError
  'IP_ADAPTER_LOAD', // IpAdapterLoadError
  'LORA_LOAD', // LoraLoadError
  'MODEL_CAPABILITY', // ModelCapabilityError
  'SDXL_INPUT', // SdxlInputError
  'SINGLE_FILE_CHECKPOINT', // SingleFileCheckpointError
] as const;

export type SdxlErrorCode = (typeof SDXL_ERROR_CODES)[number];
