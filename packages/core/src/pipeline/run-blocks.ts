/**
 * The pure run of a pipeline: blocks over components and inputs, on a fresh PipelineState (or a
 * copy of a given one), with nothing kept between runs. The pipeline classes only add where
 * the components come from and what of the final state is returned.
 */
import { UnexpectedInputError } from '../errors.js';
import { PipelineState } from '../state/pipeline-state.js';
import { throwIfAborted } from '../util/abort.js';
import type { RunTarget } from './blocks-runner.js';
import type { RunOptions } from './pipeline-options.js';
import { checkRunMemory } from './run-memory.js';
import type { RunInputs } from './run-result.js';

/**
 * Binds `inputs` (and the declared defaults) into a state, validates, bounds the run's memory,
 * runs the target's blocks and resolves to the final state. Inputs no block declares are
 * reported (a warning, or an UnexpectedInputError in strict mode). `inputs` and `options` are the
 * ones the pipeline's `run` checked.
 */
export async function runBlocks(target: RunTarget, inputs: RunInputs, options: RunOptions): Promise<PipelineState> {
  const { blocks, componentsView: components, componentsManager } = target;
  const { output: _output, state: given, ...values } = inputs;
  const strict = options.strict ?? target.strict;
  const state = given instanceof PipelineState ? given.copy() : new PipelineState();
  const beforeBlock = componentsManager ? (block: typeof blocks, name: string) => target.prepareBlock(block, name) : undefined;
  state.context = {
    signal: options.signal,
    onProgress: options.onProgress,
    strict,
    logger: target.logger,
    declarations: new WeakMap(),
    ...(beforeBlock ? { beforeBlock } : {}),
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
    const error = new UnexpectedInputError([...remaining.keys()], target.label);
    if (strict) throw error;
    target.logger.warn(error.message);
  }

  throwIfAborted(options.signal, 'before it started');
  blocks.validateInputs(components, state);
  // Bounded before anything is allocated: a run whose tensors would not fit is refused here.
  checkRunMemory(components, blocks.modelName, state, options.maxMemory ?? target.maxMemory);
  // A component larger than the memory budget fails here, before any model has run.
  componentsManager?.checkMemoryBudget(Object.values(components.components));
  if (!blocks.isComposite && beforeBlock) await beforeBlock(blocks, blocks.className);
  await blocks.call(components, state);
  return state;
}
