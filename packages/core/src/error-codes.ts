/**
 * The `code` of every error class of @modular-diffusers/core: `error.code` on an instance, the
 * class's static `code`. One per class, never reused, stable across releases, so callers can switch
 * on it (also across realms, where `instanceof` cannot see the class). Each class's doc says when it
 * is thrown. Every one is a `ModularDiffusersError` (from @modular-diffusers/core).
 */
export const CORE_ERROR_CODES = [
  'BLOCK_DEFINITION', // BlockDefinitionError
  'BLOCK_EXECUTION', // BlockExecutionError
  'COMPONENT_CONFLICT', // ComponentConflictError
  'COMPONENT_LOAD', // ComponentLoadError
  'HUB_NOT_INSTALLED', // HubNotInstalledError
  'INVALID_ARGUMENT', // InvalidArgumentError
  'LOADER_NOT_FOUND', // LoaderNotFoundError
  'MEMORY_BUDGET', // MemoryBudgetError
  'MISSING_INPUT', // MissingInputError
  'MISSING_OUTPUT', // MissingOutputError
  'MODULAR_DIFFUSERS', // ModularDiffusersError
  'NOT_FOUND', // NotFoundError
  'PIPELINE_ABORTED', // PipelineAbortedError
  'RUN_TOO_LARGE', // RunTooLargeError
  'UNDECLARED_OUTPUT', // UndeclaredOutputError
  'UNDECLARED_STATE_KEY', // UndeclaredStateKeyError
  'UNEXPECTED_INPUT', // UnexpectedInputError
  'UNKNOWN_OPTION', // UnknownOptionError
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];
