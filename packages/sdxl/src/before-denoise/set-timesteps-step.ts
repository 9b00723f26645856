/** Text-to-image timesteps: the scheduler's schedule (counted, or custom timesteps/sigmas), cut at `denoising_end`. */
import { TypedBlock, blockSpec, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { applyDenoisingEnd, retrieveTimesteps, type Scheduler } from '@modular-diffusers/diffusion';
import { schedulerComponent } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { MODEL, scheduleInputs, timestepOutputs } from './params.js';
import { numberList, timestepsTensor } from './timestep-tensor.js';

const setTimestepsSpec = blockSpec({
  description: "Step that sets the scheduler's timesteps for inference",
  components: { scheduler: schedulerComponent() },
  inputs: scheduleInputs(),
  outputs: timestepOutputs(),
});

// The default base, as in diffusers (leaf blocks extend ModularPipelineBlocks): the printout says `Class: ModularPipelineBlocks`.
export class StableDiffusionXLSetTimestepsStep extends TypedBlock(setTimestepsSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkScheduleInputs(state);
  }

  override async call(components: ComponentsOf<typeof setTimestepsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const scheduler = requireScheduler(components);
    const selection = applyDenoisingEnd(
      scheduler,
      retrieveTimesteps(scheduler, { numInferenceSteps: bs.num_inference_steps, timesteps: numberList(bs.timesteps), sigmas: numberList(bs.sigmas) }),
      bs.denoising_end,
    );
    bs.timesteps = timestepsTensor(selection.timesteps);
    bs.num_inference_steps = selection.numInferenceSteps;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The scheduler a block declared, or an error saying how to get one (it is null until loaded). */
export function requireScheduler(components: { readonly scheduler?: Scheduler | null }): Scheduler {
  const scheduler = components.scheduler;
  if (!scheduler) throw new SdxlInputError('No scheduler is loaded; run pipeline.loadComponents() or set one with updateComponents({ scheduler }).');
  return scheduler;
}

/** num_inference_steps, timesteps/sigmas and denoising_start/end, checked before anything runs. */
export function checkScheduleInputs(state: PipelineState): void {
  const steps = state.get('num_inference_steps');
  const custom = state.get('timesteps') != null || state.get('sigmas') != null;
  if (state.get('timesteps') != null && state.get('sigmas') != null) {
    throw new SdxlInputError('Pass only one of `timesteps` or `sigmas` (each sets the whole schedule).');
  }
  for (const name of ['timesteps', 'sigmas']) {
    if (state.get(name) != null && numberList(state.get(name)) === null) {
      throw new SdxlInputError(`\`${name}\` must be a list of numbers (or a 1-D Tensor), got ${typeof state.get(name)}.`);
    }
  }
  if (!custom && !(typeof steps === 'number' && Number.isInteger(steps) && steps >= 1)) {
    throw new SdxlInputError(`\`num_inference_steps\` must be a positive integer, got ${showInputValue(steps)}.`);
  }
  for (const name of ['denoising_start', 'denoising_end']) {
    const value = state.get(name);
    if (value != null && !(typeof value === 'number' && value >= 0 && value <= 1)) {
      throw new SdxlInputError(`\`${name}\` must be a fraction of the schedule between 0 and 1, got ${showInputValue(value)}.`);
    }
  }
}
