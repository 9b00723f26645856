/** Text-to-image timesteps: the scheduler's schedule (counted, or custom timesteps/sigmas), cut at `denoising_end`. */
import { InputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { applyDenoisingEnd, retrieveTimesteps, type Scheduler } from '@modular-diffusers/diffusion';
import { schedulerSpec } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { MODEL, timestepOutputs } from './params.js';
import { numberList, timestepsTensor } from './timestep-tensor.js';

export class StableDiffusionXLSetTimestepsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return "Step that sets the scheduler's timesteps for inference";
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('num_inference_steps', { default: 50 }), new InputParam('timesteps'), new InputParam('sigmas'), new InputParam('denoising_end')];
  }

  override get intermediatesOutputs() {
    return timestepOutputs();
  }

  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    checkScheduleInputs(state);
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
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

export function requireScheduler(components: PipelineComponents): Scheduler {
  const scheduler = components.scheduler as Scheduler | null;
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
  if (!custom && !(Number.isInteger(steps) && (steps as number) >= 1)) {
    throw new SdxlInputError(`\`num_inference_steps\` must be a positive integer, got ${showInputValue(steps)}.`);
  }
  for (const name of ['denoising_start', 'denoising_end']) {
    const value = state.get(name);
    if (value != null && !(typeof value === 'number' && value >= 0 && value <= 1)) {
      throw new SdxlInputError(`\`${name}\` must be a fraction of the schedule between 0 and 1, got ${showInputValue(value)}.`);
    }
  }
}
