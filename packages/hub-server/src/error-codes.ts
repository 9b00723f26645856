/**
 * The `code` of every error class of @modular-diffusers/hub-server: `error.code` on an instance,
 * the class's static `code`. One per class, never reused, stable across releases, so callers can
 * switch on it (also across realms, where `instanceof` cannot see the class). Each class's doc says
 * when it is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const HUB_SERVER_ERROR_CODES = [
  'HUB_HTTP', // HubHttpError
  'HUB_SERVER', // HubServerError
] as const;

export type HubServerErrorCode = (typeof HUB_SERVER_ERROR_CODES)[number];
