/** Loop step 1: scale the latents for the current timestep (the scheduler's `scale_model_input`). */
import { TypedBlock, blockSpec, type ComponentsOf } from '@modular-diffusers/core';
import { schedulerComponent } from '../components/component-specs.js';
import { LOOP_STEP_NOTE, MODEL_NAME, latentsInput, requireLoaded, type LoopStateOf } from './loop-params.js';

const loopBeforeDenoiserSpec = blockSpec({
  description: `step within the denoising loop that prepare the latent input for the denoiser. ${LOOP_STEP_NOTE}`,
  components: { scheduler: schedulerComponent() },
  inputs: { latents: latentsInput() },
});

type LoopState = LoopStateOf<typeof loopBeforeDenoiserSpec>;

export class StableDiffusionXLLoopBeforeDenoiser extends TypedBlock(loopBeforeDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof loopBeforeDenoiserSpec>, bs: LoopState, _i: number, t: number): Promise<[typeof components, LoopState]> {
    bs.scaled_latents = requireLoaded(components.scheduler, 'scheduler', this.className).scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}
