/**
 * The guide's `SDXLDiffDiffLoopBeforeDenoiser`: before each denoising step,
 * put the regions the change map still holds back on the original latents
 * noised to this step, then scale for the UNet as the plain loop step does.
 */
import { ComponentSpec, InputParam, PipelineBlock, type BlockState, type PipelineComponents } from '@modular-diffusers/core';
import { Tensor, cast, mix, select } from '@modular-diffusers/runtime/tensor';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { DiffDiffInputError } from './errors.js';
import { MODEL_NAME, diffdiffMasksInput, originalLatentsInput } from './params.js';

type LoopBlockState = BlockState & Record<string, any>;

export class SDXLDiffDiffLoopBeforeDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return 'Step within the denoising loop for differential diffusion that prepare the latent input for the denoiser';
  }

  override get expectedComponents() {
    return [new ComponentSpec('scheduler', 'EulerDiscreteScheduler')];
  }

  override get inputs() {
    return [new InputParam('denoising_start')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('latents', {
        required: true,
        typeHint: 'Tensor',
        description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
      }),
      originalLatentsInput(),
      diffdiffMasksInput(),
    ];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    const original = bs.original_latents as Tensor<'float32'> | null | undefined;
    const masks = bs.diffdiff_masks as Tensor<'bool'> | null | undefined;
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
      bs.latents = mix(bs.latents as Tensor<'float32'>, select(original, i), held);
    }
    bs.scaled_latents = (components.scheduler as Scheduler).scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}
