/** Loop step 1: scale the latents for the current timestep (the scheduler's `scale_model_input`). */
import { PipelineBlock, type BlockState, type PipelineComponents } from '@modular-diffusers/core';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { schedulerSpec } from '../components/component-specs.js';
import { LOOP_STEP_NOTE, MODEL_NAME, latentsInput } from './loop-params.js';

export type LoopBlockState = BlockState & Record<string, any>;

export class StableDiffusionXLLoopBeforeDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return `step within the denoising loop that prepare the latent input for the denoiser. ${LOOP_STEP_NOTE}`;
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get intermediatesInputs() {
    return [latentsInput()];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, _i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    bs.scaled_latents = (components.scheduler as Scheduler).scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}
