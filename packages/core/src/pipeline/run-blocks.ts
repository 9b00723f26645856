/**
 * The pure run of a pipeline: blocks over components and inputs, on a fresh PipelineState (or a
 * copy of a given one), with nothing kept between runs. The pipeline classes only add where
 * the components come from and what of the final state is returned.
 */
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ComponentsManager } from '../components/components-manager.js';
import { InvalidArgumentError, UnexpectedInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PipelineState } from '../state/pipeline-state.js';
import { throwIfAborted } from '../util/abort.js';
import type { ModularPipeline } from './modular-pipeline.js';
import { RUN_OPTIONS, type RunOptions } from './pipeline-options.js';
import { checkRunMemory } from './run-memory.js';
import type { RunInputs } from './run-result.js';

export interface RunBlocksContext {
  /** Names the pipeline in messages, e.g. `StableDiffusionXLModularPipeline (SequentialPipelineBlocks)`. */
  label: string;
  strict: boolean;
  logger: Logger;
  maxMemory: number | string | null;
  componentsManager: ComponentsManager | null;
  /** Awaited before each block runs (auto offload makes its components resident). */
  beforeBlock?: (block: ModularPipelineBlocks, name: string) => Promise<void>;
}

/**
 * Checks `inputs`, binds them (and the declared defaults) into a state, validates, bounds the
 * run's memory, runs `blocks` and resolves to the final state. Inputs no block declares are
 * reported (a warning, or an UnexpectedInputError in strict mode).
 */
export async function runBlocks(
  blocks: ModularPipelineBlocks,
  components: ModularPipeline,
  inputs: RunInputs,
  options: RunOptions,
  context: RunBlocksContext,
): Promise<PipelineState> {
  RUN_OPTIONS.check(options);
  options ??= {};
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new InvalidArgumentError(
      `pipeline.run(inputs): inputs must be an object of pipeline inputs by name, got ${Array.isArray(inputs) ? 'an array' : inputs === null ? 'null' : typeof inputs}.`,
    );
  }
  const { output: _output, state: given, ...values } = inputs;
  const strict = options.strict ?? context.strict;
  const state = given instanceof PipelineState ? given.copy() : new PipelineState();
  if (given !== undefined && !(given instanceof PipelineState)) {
    throw new InvalidArgumentError("run({ state }): 'state' must be a PipelineState from an earlier run.");
  }
  state.context = {
    signal: options.signal,
    onProgress: options.onProgress,
    strict,
    logger: context.logger,
    declarations: new WeakMap(),
    ...(context.beforeBlock ? { beforeBlock: context.beforeBlock } : {}),
  };

  const remaining = new Map(Object.entries(values));
  for (const param of blocks.declarationsIn(state).allInputs) {
    if (param.name) {
      if (remaining.has(param.name)) {
        state.set(param.name, remaining.get(param.name));
        remaining.delete(param.name);
      } else if (!state.has(param.name)) {
        state.set(param.name, param.default);
      }
    } else if (param.kwargsType && remaining.has(param.kwargsType)) {
      const group = remaining.get(param.kwargsType);
      if (group !== null && typeof group === 'object') {
        for (const [key, value] of Object.entries(group)) state.set(key, value, param.kwargsType);
      }
      remaining.delete(param.kwargsType);
    }
  }
  if (remaining.size > 0) {
    const error = new UnexpectedInputError([...remaining.keys()], context.label);
    if (strict) throw error;
    context.logger.warn(error.message);
  }

  throwIfAborted(options.signal, 'before it started');
  blocks.validateInputs(components, state);
  // Bounded before anything is allocated: a run whose tensors would not fit is refused here.
  checkRunMemory(components, blocks.modelName, state, options.maxMemory ?? context.maxMemory);
  // A component larger than the memory budget fails here, before any model has run.
  context.componentsManager?.checkMemoryBudget(Object.values(components.components));
  if (!blocks.isComposite && context.beforeBlock) await context.beforeBlock(blocks, blocks.className);
  await blocks.call(components, state);
  return state;
}
