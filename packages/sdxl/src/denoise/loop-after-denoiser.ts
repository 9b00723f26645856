/** Loop step 3: the scheduler step from the guided noise prediction to the next latents. */
import { InputParam, OutputParam, PipelineBlock, type PipelineComponents } from '@modular-diffusers/core';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { schedulerSpec } from '../components/component-specs.js';
import type { LoopBlockState } from './loop-before-denoiser.js';
import { LOOP_STEP_NOTE, MODEL_NAME, noiseSource } from './loop-params.js';

export class StableDiffusionXLLoopAfterDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return `step within the denoising loop that update the latents. ${LOOP_STEP_NOTE}`;
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('eta', { default: 0.0 })];
  }

  override get intermediatesInputs() {
    return [new InputParam('generator')];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('latents', { typeHint: 'Tensor', description: 'The denoised latents' })];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, _i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    bs.latents = schedulerStep(components.scheduler as Scheduler, bs, t);
    return [components, bs];
  }
}

/** `scheduler.step(noise_pred, t, latents, { generator, eta })`; eta only matters to schedulers that take it (DDIM). */
export function schedulerStep(scheduler: Scheduler, bs: LoopBlockState, t: number) {
  return scheduler.step(bs.noise_pred, t, bs.latents, { generator: noiseSource(bs.generator), eta: bs.eta ?? 0 }).prevSample;
}
