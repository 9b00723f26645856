/**
 * What `run` takes and what it resolves to. A pipeline's output types (`Out`, e.g. sdxl's
 * `{ images: PipelineImage[]; latents: Tensor }`) type the value of `output: 'images'`; a
 * name the pipeline does not type reads as `unknown`, never as `any`.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { PipelineState } from '../state/pipeline-state.js';

/** `output`: one name, a list of names, or nothing for the whole PipelineState. */
export type OutputChoice = string | readonly string[] | undefined;

/** Pipeline inputs by name, plus `output` (what to return) and `state` (a state to continue from). */
export type RunInputs = { [input: string]: unknown; output?: OutputChoice; state?: PipelineState };

/**
 * `run`'s inputs for a pipeline whose declared inputs are `In`: those names are type-checked (null or
 * undefined takes the default), any other name is allowed (a plugin's blocks may read more).
 */
export type RunInputsFor<In> = RunInputs & { readonly [K in keyof In]?: In[K] | null };

/** The `output` a run's inputs ask for. */
export type OutputAskedBy<I> = I extends { readonly output?: infer O extends OutputChoice } ? O : undefined;

/**
 * A pipeline's outputs as one run sees them: outputs that depend on the inputs (SDXL's `images`
 * are tensors for `output_type: 'np'`) read the run's inputs from their `'~inputs'` slot through
 * `this['~inputs']`.
 */
export type OutputsGiven<Out, I> = Out extends { readonly '~inputs'?: unknown } ? Out & { readonly '~inputs'?: I } : Out;

/** The type of one output of a pipeline whose outputs are `Out`. */
export type OutputValue<Out, K extends string> = Out extends { readonly [N in K]: infer V } ? V : unknown;

/** What `run({ output })` resolves to: the value, a record of the values, or the final state. */
export type RunResult<Out, O extends OutputChoice> = [O] extends [string]
  ? OutputValue<Out, O>
  : [O] extends [readonly string[]]
    ? { [K in O[number]]: OutputValue<Out, K> }
    : [O] extends [undefined]
      ? PipelineState
      : unknown;

/** What `run(inputs)` resolves to for a pipeline whose outputs are `Out`. */
export type RunResultFor<Out, I> = RunResult<OutputsGiven<Out, I>, OutputAskedBy<I>>;

/** A pipeline's outputs when nothing types them. */
export type UntypedOutputs = object;

/**
 * Checks a run's inputs before anything runs, whichever runner runs them: an object of inputs by
 * name, `output` a name or a list of names, `state` a PipelineState from an earlier run.
 */
export function checkRunInputs(inputs: unknown): asserts inputs is RunInputs {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new InvalidArgumentError(
      `pipeline.run(inputs): inputs must be an object of pipeline inputs by name, got ${Array.isArray(inputs) ? 'an array' : inputs === null ? 'null' : typeof inputs}.`,
    );
  }
  const { output, state } = inputs as RunInputs;
  if (output !== undefined && output !== null && typeof output !== 'string' && !Array.isArray(output)) {
    throw new InvalidArgumentError(`output must be a name or a list of names, got ${typeof output}.`);
  }
  if (state !== undefined && !(state instanceof PipelineState)) {
    throw new InvalidArgumentError("run({ state }): 'state' must be a PipelineState from an earlier run.");
  }
}

/** Picks what a run returns from its final state: undefined the state, a name its value, a list a record. */
export function selectOutput(state: PipelineState, output: unknown): unknown {
  if (output === undefined || output === null) return state;
  const missing = (name: string) => new NotFoundError(`Output '${name}' is not in the pipeline state. Available: ${state.keys().join(', ')}.`);
  if (typeof output === 'string') {
    if (!state.has(output)) throw missing(output);
    return state.get(output);
  }
  if (Array.isArray(output)) {
    for (const name of output) if (!state.has(name)) throw missing(name);
    return state.get(output as string[]);
  }
  throw new InvalidArgumentError(`output must be a name or a list of names, got ${typeof output}.`);
}
