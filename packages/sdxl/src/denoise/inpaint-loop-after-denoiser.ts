/**
 * Loop step 3 for inpainting: the scheduler step, then, for a 4-channel
 * UNet, the area outside the mask is put back to the original image
 * latents noised to the next timestep: `(1 - mask) * noised_image + mask * latents`.
 */
import { InputParam, OutputParam, PipelineBlock, type PipelineComponents } from '@modular-diffusers/core';
import { mix, type Tensor } from '@modular-diffusers/runtime';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { schedulerSpec, unetSpec } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { schedulerStep } from './loop-after-denoiser.js';
import type { LoopBlockState } from './loop-before-denoiser.js';
import { MODEL_NAME, maskInput, timestepList, timestepsInput, unetInChannels } from './loop-params.js';

export class StableDiffusionXLInpaintLoopAfterDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return (
      'step within the denoising loop that update the latents (for inpainting workflow only). ' +
      'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object (e.g. `StableDiffusionXLDenoiseLoopWrapper`)'
    );
  }

  override get expectedComponents() {
    return [schedulerSpec(), unetSpec()];
  }

  override get inputs() {
    return [new InputParam('eta', { default: 0.0 })];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      timestepsInput(),
      maskInput(),
      new InputParam('noise', {
        typeHint: 'Optional[Tensor]',
        description: 'The noise added to the image latents, for inpainting task only. Can be generated in prepare_latent step.',
      }),
      new InputParam('image_latents', {
        typeHint: 'Optional[Tensor]',
        description:
          'The image latents to use for the denoising process, for inpainting/image-to-image task only. Can be generated in vae_encode or prepare_latent step.',
      }),
    ];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('latents', { typeHint: 'Tensor', description: 'The denoised latents' })];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    const scheduler = components.scheduler as Scheduler;
    const fourChannel = unetInChannels(components) === 4;
    if (fourChannel) {
      for (const name of ['image_latents', 'mask', 'noise'] as const) {
        if (!bs[name]) {
          throw new SdxlInputError(`${name} is required for ${this.className} with a 4-channel UNet; run the inpaint prepare-latents step or pass it.`);
        }
      }
    }
    const latents = schedulerStep(scheduler, bs, t);
    if (!fourChannel) {
      bs.latents = latents;
      return [components, bs];
    }
    const timesteps = timestepList(bs.timesteps);
    let original = bs.image_latents as Tensor<'float32'>;
    if (i < timesteps.length - 1) original = scheduler.addNoise(original, bs.noise, [timesteps[i + 1]!]);
    bs.latents = mix(original, latents, bs.mask as Tensor<'float32'>);
    return [components, bs];
  }
}
