/**
 * Work bounded up front: before a run allocates anything, the pipeline asks the estimator of its
 * model family (SDXL registers one) how many bytes the run's tensors will take (latents, decoded
 * images, VAE activations; model weights are the components manager's business) and refuses a run
 * above the limit with RunTooLargeError, naming the sizes and the override. A family without an
 * estimator runs unchecked.
 */
import { parseMemoryBudget } from '../components/memory-budget.js';
import { InvalidArgumentError, ModularDiffusersError } from '../errors.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { formatBytes } from '../util/format-table.js';
import type { ModularPipeline } from './modular-pipeline.js';

export interface RunMemoryEstimate {
  /** The peak working set, in bytes. */
  bytes: number;
  /** What it is made of, largest first, e.g. `{ what: 'VAE decoder activations', bytes }`. */
  parts: Array<{ what: string; bytes: number }>;
  /** The run's shape in words, e.g. `1 image of 100000x100000`. */
  shape: string;
}

/** Estimates a run from the pipeline (its component configs) and the state holding its inputs and defaults. */
export type RunMemoryEstimator = (components: ModularPipeline, state: PipelineState) => RunMemoryEstimate | null;

const estimators = new Map<string, RunMemoryEstimator>();

/** Registers the estimator for blocks whose `modelName` is `modelName` (e.g. 'stable-diffusion-xl'). */
export function registerRunMemoryEstimator(modelName: string, estimator: RunMemoryEstimator): void {
  estimators.set(modelName, estimator);
}

export function getRunMemoryEstimator(modelName: string | null): RunMemoryEstimator | undefined {
  return modelName === null ? undefined : estimators.get(modelName);
}

/** The limit when neither the pipeline nor the run sets `maxMemory`: 16 GiB of run tensors. */
export const DEFAULT_MAX_RUN_MEMORY = 16 * 2 ** 30;

/** `maxMemory` as bytes: a number, a size such as '24GB', or Infinity for no limit. */
export function parseMaxMemory(value: number | string | null | undefined): number {
  if (value === undefined || value === null) return DEFAULT_MAX_RUN_MEMORY;
  if (value === Infinity || value === 'Infinity' || value === 'none') return Infinity;
  try {
    return parseMemoryBudget(value);
  } catch (error) {
    throw new InvalidArgumentError(
      `maxMemory: ${(error as Error).message.replace(/memory budget/g, 'size')} (or Infinity for no limit).`,
    );
  }
}

/** The run's estimated working set is above `maxMemory`; nothing was allocated. */
export class RunTooLargeError extends ModularDiffusersError {
  static override readonly code: string = 'RUN_TOO_LARGE';
  override name = 'RunTooLargeError';
  constructor(
    readonly estimate: RunMemoryEstimate,
    readonly limit: number,
  ) {
    const parts = estimate.parts.map((p) => `${p.what} ${formatBytes(p.bytes)}`).join(', ');
    super(
      `This run needs about ${formatBytes(estimate.bytes)} of memory (${parts}) for ${estimate.shape}, ` +
        `over the ${formatBytes(limit)} limit; nothing was allocated. ` +
        `Ask for a smaller height and width or fewer images, or raise the limit if the machine has the memory: ` +
        `run(inputs, { maxMemory: '${suggestedLimit(estimate.bytes)}' }) or initPipeline/fromPretrained({ maxMemory }); ` +
        `on the command line --max-memory ${suggestedLimit(estimate.bytes)}.`,
    );
  }
}

function suggestedLimit(bytes: number): string {
  return `${Math.ceil((bytes * 1.1) / 1e9)}GB`;
}

/** Throws RunTooLargeError when the family's estimate for `state` is over `maxMemory`; returns the estimate. */
export function checkRunMemory(
  components: ModularPipeline,
  modelName: string | null,
  state: PipelineState,
  maxMemory: number | string | null | undefined,
): RunMemoryEstimate | null {
  const limit = parseMaxMemory(maxMemory);
  const estimator = getRunMemoryEstimator(modelName);
  if (!estimator) return null;
  const estimate = estimator(components, state);
  if (estimate && !(estimate.bytes <= limit)) throw new RunTooLargeError(estimate, limit);
  return estimate;
}
