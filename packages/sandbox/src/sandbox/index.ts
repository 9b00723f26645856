export { createSandbox, MAX_LOG_LINES_PER_CALL } from './create-sandbox.js';
export { escapeLogText } from './log-text.js';
export { sandboxProcessFlags, sandboxLauncher, SANDBOX_LAUNCHER_VARIABLE } from './sandbox-process.js';
export type {
  CreateSandboxOptions,
  SandboxClock,
  Sandbox,
  SandboxBundle,
  SandboxCapability,
  SandboxExportInfo,
  SandboxLibrary,
  SandboxLimits,
  SandboxLogLevel,
  SandboxManifest,
} from './create-sandbox.js';
export { SANDBOX_API_VERSION } from './context-prelude.js';
export { checkSandboxSource, DEFAULT_MAX_SOURCE_BYTES } from './check-sandbox-source.js';
export { SANDBOX_BUNDLE_OPTIONS } from './sandbox-bundle-options.js';
export { decodeSandboxValue, encodeSandboxValue, BINARY_MARKER_KEY } from './sandbox-value.js';
export type { EncodedSandboxValue, SandboxBinary, SandboxValue } from './sandbox-value.js';
export {
  RemoteCodeError,
  SandboxCodeRejectedError,
  SandboxCrashedError,
  SandboxError,
  SandboxMemoryError,
  SandboxOutOfTurnError,
  SandboxTimeoutError,
} from './errors.js';
export type { RemoteErrorInfo } from './errors.js';
