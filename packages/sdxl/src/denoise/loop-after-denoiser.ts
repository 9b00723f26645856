/** Loop step 3: the scheduler step from the guided noise prediction to the next latents. */
import { TypedBlock, blockSpec, output, type ComponentsOf } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { schedulerComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { LOOP_STEP_NOTE, MODEL_NAME, etaInput, generatorInput, noiseSource, requireLoaded, type GeneratorInput, type LoopStateOf } from './loop-params.js';

const loopAfterDenoiserSpec = blockSpec({
  description: `step within the denoising loop that update the latents. ${LOOP_STEP_NOTE}`,
  components: { scheduler: schedulerComponent() },
  inputs: { eta: etaInput(), generator: generatorInput() },
  outputs: { latents: output<Tensor>({ typeHint: 'Tensor', description: 'The denoised latents' }) },
});

type LoopState = LoopStateOf<typeof loopAfterDenoiserSpec>;

export class StableDiffusionXLLoopAfterDenoiser extends TypedBlock(loopAfterDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof loopAfterDenoiserSpec>, bs: LoopState, _i: number, t: number): Promise<[typeof components, LoopState]> {
    bs.latents = schedulerStep(requireLoaded(components.scheduler, 'scheduler', this.className), bs, t);
    return [components, bs];
  }
}

/** What a scheduler step reads from the loop's block state. */
export interface SchedulerStepState {
  noise_pred?: Tensor;
  latents?: Tensor;
  generator?: GeneratorInput;
  eta?: number;
}

/** `scheduler.step(noise_pred, t, latents, { generator, eta })`; eta only matters to schedulers that take it (DDIM). */
export function schedulerStep(scheduler: Scheduler, bs: SchedulerStepState, t: number): Tensor<'float32'> {
  const { noise_pred: noisePred, latents } = bs;
  if (!noisePred || !latents) {
    throw new SdxlInputError('The scheduler step needs noise_pred and latents: run the loop body in order (before_denoiser, denoiser, after_denoiser).');
  }
  return scheduler.step(noisePred, t, latents, { generator: noiseSource(bs.generator), eta: bs.eta ?? 0 }).prevSample;
}
