/**
 * The guide's `SDXLDiffDiffLoopBeforeDenoiser`: before each denoising step,
 * put the regions the change map still holds back on the original latents
 * noised to this step, then scale for the UNet as the plain loop step does.
 */
import { TypedBlock, blockSpec, component, input, type BlockState, type ComponentsOf, type StateOf } from '@modular-diffusers/core';
import { Tensor, cast, mix, select } from '@modular-diffusers/runtime/tensor';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { DiffDiffInputError } from './errors.js';
import { MODEL_NAME, diffdiffMasksInput, originalLatentsInput } from './params.js';

const loopBeforeDenoiserSpec = blockSpec({
  description: 'Step within the denoising loop for differential diffusion that prepare the latent input for the denoiser',
  components: { scheduler: component<Scheduler>('EulerDiscreteScheduler') },
  inputs: {
    denoising_start: input<number | null>(),
    latents: input<Tensor<'float32'>>({
      required: true,
      typeHint: 'Tensor',
      description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
    }),
    original_latents: originalLatentsInput(),
    diffdiff_masks: diffdiffMasksInput(),
  },
});

/** The loop's block state as this step sees it; `scaled_latents` is what it hands the denoiser. */
type LoopState = BlockState & StateOf<typeof loopBeforeDenoiserSpec> & { scaled_latents?: Tensor };

export class SDXLDiffDiffLoopBeforeDenoiser extends TypedBlock(loopBeforeDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof loopBeforeDenoiserSpec>, bs: LoopState, i: number, t: number): Promise<[typeof components, LoopState]> {
    const original = bs.original_latents;
    const masks = bs.diffdiff_masks;
    if (!(original instanceof Tensor) || !(masks instanceof Tensor)) {
      throw new DiffDiffInputError(
        'original_latents and diffdiff_masks are missing: run SDXLDiffDiffPrepareLatentsStep (DIFFDIFF_BLOCKS\' prepare_latents) before the diff-diff denoise loop.',
      );
    }
    if (i >= original.shape[0]! || i >= masks.shape[0]!) {
      throw new DiffDiffInputError(
        `Denoising step ${i} has no precomputed original latents or mask (${original.shape[0]} latents, ${masks.shape[0]} masks): ` +
          'the loop must run over the timesteps prepare_latents saw.',
      );
    }
    if (i === 0 && bs.denoising_start == null) {
      // A copy, so nothing later in the loop can write into the precomputed latents.
      bs.latents = select(original, 0).clone();
    } else {
      const [h, w] = masks.shape.slice(1) as [number, number];
      const held = cast(select(masks, i), 'float32').reshape([1, 1, h, w]);
      // diffusers: original[i] * mask + latents * (1 - mask); identical for a 0/1 mask.
      bs.latents = mix(bs.latents, select(original, i), held);
    }
    bs.scaled_latents = components.scheduler.scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}
