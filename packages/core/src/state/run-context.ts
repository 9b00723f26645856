import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { getLogger, type Logger } from '../logger.js';
import type { AbortSignalLike } from '../util/abort.js';

/** One progress tick of a loop block (a denoise step). */
export interface ProgressEvent {
  /** Class name of the loop block reporting. */
  block: string;
  /** 1-based step just finished. */
  step: number;
  total: number | null;
}

/**
 * What a run carries besides values: cancellation, progress and strictness.
 * It travels on the PipelineState so nested blocks see it without extra
 * parameters.
 */
export interface RunContext {
  signal?: AbortSignalLike;
  onProgress?: (event: ProgressEvent) => void;
  /** Dev/test checks: undeclared reads and lost writes throw instead of passing silently. */
  strict: boolean;
  logger: Logger;
  /**
   * Awaited before every sub-block runs (leaf, loop step or composite): the
   * pipeline uses it to make the block's components resident under a memory budget.
   */
  beforeBlock?: (block: ModularPipelineBlocks, name: string) => Promise<void>;
}

export function defaultRunContext(overrides: Partial<RunContext> = {}): RunContext {
  return { strict: false, logger: getLogger(), ...overrides };
}
