import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
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
  /**
   * Each block's merged declarations, computed once per pipeline run: blocks
   * cannot change while a run is under way, and rebuilding them on every
   * read of a block's state is the engine's largest per-block cost. Set by
   * ModularPipeline.run; a hand-made state has none and always recomputes.
   */
  declarations?: WeakMap<ModularPipelineBlocks, BlockDeclarations>;
}

/** What getBlockState/setBlockState read off a block. */
export interface BlockDeclarations {
  allInputs: InputParam[];
  outputs: OutputParam[];
}

export function defaultRunContext(overrides: Partial<RunContext> = {}): RunContext {
  return { strict: false, logger: getLogger(), ...overrides };
}
