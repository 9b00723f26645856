/**
 * The `code` of every error class of @modular-diffusers/diffusion: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const DIFFUSION_ERROR_CODES = [
  'COMPONENT_CONFIG', // ComponentConfigError
  'DIFFUSION_INPUT', // DiffusionInputError
  'SCHEDULER_STATE', // SchedulerStateError
] as const;

export type DiffusionErrorCode = (typeof DIFFUSION_ERROR_CODES)[number];
