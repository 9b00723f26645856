/**
 * The `code` of every error class of @modular-diffusers/cli: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const CLI_ERROR_CODES = [
  'CLI', // CliError
  'CLI_INTERRUPTED', // CliInterruptedError
  'CLI_USAGE', // CliUsageError
  'PLUGIN_BUILD', // PluginBuildError
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];
