import { SandboxError } from '../sandbox/errors.js';

/** Sandboxed code asked for a component or method this pipeline does not offer it. */
export class RemoteComponentAccessError extends SandboxError {
  static override readonly code: string = 'REMOTE_COMPONENT_REFUSED';
  constructor(message: string) {
    super(message);
  }
}

/** The sandbox libraries (engine, tensors, diffusion, SDXL blocks) could not be bundled. */
export class SandboxLibraryBuildError extends SandboxError {
  static override readonly code: string = 'SANDBOX_LIBRARY_BUILD';
  /**
   * `detail` says what went wrong. Without `advice` it is a bundling failure, and the message says
   * which imports are allowed; a prebuilt bundle that is missing or stale passes how to get a fresh one.
   */
  constructor(detail: string, advice?: string) {
    super(
      advice
        ? `The sandbox libraries cannot be used: ${detail}. ${advice}`
        : `Building the sandbox libraries failed: ${detail}. ` +
            'Only pure modules (no Node built-ins, onnxruntime or sharp) may be reachable from the sandbox entries; ' +
            'move the offending import out of the block code (models and images are reached through components).',
    );
  }
}

/** A remote pipeline was used in a way it cannot support (edited remote blocks, a disposed pipeline, ...). */
export class RemotePipelineError extends SandboxError {
  static override readonly code: string = 'REMOTE_PIPELINE';
  constructor(message: string) {
    super(message);
  }
}
