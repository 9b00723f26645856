export { RemoteModularPipeline } from './remote-modular-pipeline.js';
export type { RemotePipelineOptions, RemoteCallablePipeline } from './remote-modular-pipeline.js';
export { RemoteBlocks } from './remote-blocks.js';
export type { RemoteOrigin } from './remote-blocks.js';
export { loadRemoteBlocks } from './load-remote-blocks.js';
export { DEFAULT_REMOTE_LIMITS, RemoteSession } from './remote-session.js';
export type { RemoteSandboxOptions, RemoteSource } from './remote-session.js';
export {
  DEFAULT_COMPONENT_ACCESS,
  componentAccessFor,
  registerComponentAccess,
  unregisterComponentAccess,
} from './component-access.js';
export type { ComponentAccess } from './component-access.js';
export { SANDBOX_LIBRARY_NAMES, clearSandboxLibraryCache, getSandboxLibraries } from './sandbox-libraries.js';
export type { SandboxLibrariesOptions } from './sandbox-libraries.js';
export { RemoteComponentAccessError, RemotePipelineError, SandboxLibraryBuildError } from './remote-errors.js';
export {
  createSandboxRemoteCodeLoader,
  installSandboxRemoteCodeLoader,
  sandboxRemoteCodeLoader,
} from './sandbox-remote-code-loader.js';
export { REMOTE_DRIVER_EXPORT, REMOTE_DRIVER_LIBRARY } from './remote-protocol.js';
