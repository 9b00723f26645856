/**
 * The `code` of every error class of @modular-diffusers/sandbox: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `SandboxError`, so a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const SANDBOX_ERROR_CODES = [
  'REMOTE_COMPONENT_REFUSED', // RemoteComponentAccessError
  'REMOTE_PIPELINE', // RemotePipelineError
  'SANDBOX', // SandboxError
  'SANDBOX_CODE_REJECTED', // SandboxCodeRejectedError
  'SANDBOX_CRASHED', // SandboxCrashedError
  'SANDBOX_LIBRARY_BUILD', // SandboxLibraryBuildError
  'SANDBOX_MEMORY', // SandboxMemoryError
  'SANDBOX_OUT_OF_TURN', // SandboxOutOfTurnError
  'SANDBOX_REMOTE_ERROR', // RemoteCodeError
  'SANDBOX_TIMEOUT', // SandboxTimeoutError
] as const;

export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];
