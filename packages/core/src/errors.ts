/**
 * Every error the engine throws is a `ModularDiffusersError`, so callers can
 * catch the engine's complaints without catching model or I/O failures.
 * Each message says what went wrong and what to do next.
 *
 * Names are class fields (not assignments in the constructor) so the classes
 * also work in a hardened realm where `Error.prototype.name` is frozen.
 */
export class ModularDiffusersError extends Error {
  /**
   * The class's stable identifier (e.g. 'INVALID_ARGUMENT'), one per class and never reused;
   * each package lists its codes in its `*_ERROR_CODES`. Subclasses override it; instances copy it.
   */
  static readonly code: string = 'MODULAR_DIFFUSERS';
  override name = 'ModularDiffusersError';
  /**
   * Which kind of error this is, stable across releases and realms (unlike the class, which
   * `instanceof` only finds in the realm that defined it): the class's static `code`.
   */
  readonly code: string;
  /** Dotted path of the sub-block the error happened in, filled in as it travels up. */
  blockPath: string[] = [];

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // An own property, so it survives JSON and the trip across the sandbox boundary.
    this.code = new.target.code;
  }
}

/** A required input was neither passed by the caller nor produced by an earlier block. */
export class MissingInputError extends ModularDiffusersError {
  static override readonly code: string = 'MISSING_INPUT';
  override name = 'MissingInputError';
  constructor(
    readonly input: string,
    readonly block: string,
  ) {
    super(
      `Required input '${input}' is missing for block ${block}. ` +
        `Pass it when you call the pipeline (e.g. pipeline({ ${input}: ... })) or put a block before ${block} that outputs '${input}'.`,
    );
  }
}

/** A block finished without setting an output it declares. */
export class MissingOutputError extends ModularDiffusersError {
  static override readonly code: string = 'MISSING_OUTPUT';
  override name = 'MissingOutputError';
  constructor(
    readonly output: string,
    readonly block: string,
  ) {
    super(
      `Block ${block} declares the output '${output}' but did not set it on its block state. ` +
        `Set blockState.${output} in call(), or remove OutputParam('${output}') from its outputs.`,
    );
  }
}

/** Strict mode: a block changed a pipeline value it does not declare as an output, so the change would be lost. */
export class UndeclaredOutputError extends ModularDiffusersError {
  static override readonly code: string = 'UNDECLARED_OUTPUT';
  override name = 'UndeclaredOutputError';
  constructor(
    readonly key: string,
    readonly block: string,
  ) {
    super(
      `Block ${block} changed '${key}' on its block state, but '${key}' is neither an input nor an output of the block, ` +
        `so the change would not reach the pipeline state. Declare OutputParam('${key}') or use a different local name.`,
    );
  }
}

/** Strict mode: a block read a key it never declared and never set (usually a typo). */
export class UndeclaredStateKeyError extends ModularDiffusersError {
  static override readonly code: string = 'UNDECLARED_STATE_KEY';
  override name = 'UndeclaredStateKeyError';
  constructor(
    readonly key: string,
    readonly block: string,
  ) {
    super(
      `Block ${block} read '${key}' from its block state, but '${key}' is not a declared input or output and was never set. ` +
        `Declare InputParam('${key}') if the block needs it, or check the spelling.`,
    );
  }
}

/** A pipeline call received an input that no block declares. */
export class UnexpectedInputError extends ModularDiffusersError {
  static override readonly code: string = 'UNEXPECTED_INPUT';
  override name = 'UnexpectedInputError';
  constructor(
    readonly inputs: string[],
    readonly pipeline: string,
  ) {
    super(
      `Unexpected input${inputs.length > 1 ? 's' : ''} ${inputs.map((n) => `'${n}'`).join(', ')} for ${pipeline}: no block declares ` +
        `${inputs.length > 1 ? 'them' : 'it'}, so ${inputs.length > 1 ? 'they' : 'it'} would be ignored. ` +
        `Check the spelling against pipeline.doc, or add InputParam(...) to the block that should use it.`,
    );
  }
}

/** Two blocks of one composite declare the same component name with specs that cannot be the same object. */
export class ComponentConflictError extends ModularDiffusersError {
  static override readonly code: string = 'COMPONENT_CONFLICT';
  override name = 'ComponentConflictError';
  constructor(
    readonly component: string,
    detail: string,
  ) {
    super(
      `Component '${component}' is declared twice with conflicting specs: ${detail}. ` +
        `Give one of them another name, or make both specs load the same thing.`,
    );
  }
}

/** A block class or composite is declared inconsistently (lengths, defaults, loop sub-blocks, ...). */
export class BlockDefinitionError extends ModularDiffusersError {
  static override readonly code: string = 'BLOCK_DEFINITION';
  override name = 'BlockDefinitionError';
}

/** No loader can create or load a component of this type. */
export class LoaderNotFoundError extends ModularDiffusersError {
  static override readonly code: string = 'LOADER_NOT_FOUND';
  override name = 'LoaderNotFoundError';
  constructor(
    readonly type: string,
    readonly method: 'fromConfig' | 'fromPretrained',
  ) {
    super(
      `No component loader can run ${method} for type '${type}'. Register one with ` +
        `defaultLoaderRegistry.register({ type: '${type}', ${method}: ... }) (registerFamily(sdxl) registers SDXL's), ` +
        `or give the ComponentSpec a class with a static ${method}().`,
    );
  }
}

/** Loading one or more components failed. */
export class ComponentLoadError extends ModularDiffusersError {
  static override readonly code: string = 'COMPONENT_LOAD';
  override name = 'ComponentLoadError';
  constructor(
    message: string,
    readonly failures: ReadonlyArray<{ name: string; error: unknown }> = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A lookup by name, id or path found nothing (or too much). */
export class NotFoundError extends ModularDiffusersError {
  static override readonly code: string = 'NOT_FOUND';
  override name = 'NotFoundError';
}

/** Bad argument to an engine API (wrong type, unknown option value). */
export class InvalidArgumentError extends ModularDiffusersError {
  static override readonly code: string = 'INVALID_ARGUMENT';
  override name = 'InvalidArgumentError';
}

/** The run was cancelled through its AbortSignal. */
export class PipelineAbortedError extends ModularDiffusersError {
  static override readonly code: string = 'PIPELINE_ABORTED';
  override name = 'PipelineAbortedError';
  constructor(where: string, reason?: unknown) {
    super(`Pipeline run aborted ${where}.`, { cause: reason });
  }
}

/** A block threw something that is not an engine error; the original is the `cause`. */
export class BlockExecutionError extends ModularDiffusersError {
  static override readonly code: string = 'BLOCK_EXECUTION';
  override name = 'BlockExecutionError';
  constructor(
    readonly block: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`Error in block ${block}: ${detail}`, { cause });
  }
}

/** `fromPretrained` needs the hub package's implementation, which `installHub()` installs. */
export class HubNotInstalledError extends ModularDiffusersError {
  static override readonly code: string = 'HUB_NOT_INSTALLED';
  override name = 'HubNotInstalledError';
  constructor(what: string) {
    super(
      `${what} needs the Hugging Face Hub integration. Add \`import { installHub } from '@modular-diffusers/hub'; installHub();\` ` +
        `(it installs the implementation), then call it again.`,
    );
  }
}
