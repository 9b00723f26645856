import { SandboxError } from '../sandbox/errors.js';

/** Sandboxed code asked for a component or method this pipeline does not offer it. */
export class RemoteComponentAccessError extends SandboxError {
  constructor(message: string) {
    super('REMOTE_COMPONENT_REFUSED', message);
  }
}

/** The sandbox libraries (engine, tensors, diffusion, SDXL blocks) could not be bundled. */
export class SandboxLibraryBuildError extends SandboxError {
  constructor(detail: string) {
    super(
      'SANDBOX_LIBRARY_BUILD',
      `Building the sandbox libraries failed: ${detail}. ` +
        'Only pure modules (no Node built-ins, onnxruntime or sharp) may be reachable from the sandbox entries; ' +
        'move the offending import out of the block code (models and images are reached through components).',
    );
  }
}

/** A remote pipeline was used in a way it cannot support (edited remote blocks, a disposed pipeline, ...). */
export class RemotePipelineError extends SandboxError {
  constructor(message: string) {
    super('REMOTE_PIPELINE', message);
  }
}
