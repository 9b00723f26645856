/**
 * Loop step 1 for inpainting: scale the latents, and for a 9-channel
 * inpainting UNet append the mask and the masked image latents as extra
 * input channels.
 */
import { InputParam, PipelineBlock, type PipelineComponents } from '@modular-diffusers/core';
import { concat, type Tensor } from '@modular-diffusers/runtime';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { schedulerSpec, unetSpec } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import type { LoopBlockState } from './loop-before-denoiser.js';
import { MODEL_NAME, latentsInput, maskInput, unetInChannels } from './loop-params.js';

export class StableDiffusionXLInpaintLoopBeforeDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return (
      'step within the denoising loop that prepare the latent input for the denoiser (for inpainting workflow only). ' +
      'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object'
    );
  }

  override get expectedComponents() {
    return [schedulerSpec(), unetSpec()];
  }

  override get intermediatesInputs() {
    return [
      latentsInput(),
      maskInput(),
      new InputParam('masked_image_latents', {
        typeHint: 'Optional[Tensor]',
        description:
          'The masked image latents to use for the denoising process, for inpainting task only. Can be generated in vae_encode or prepare_latent step.',
      }),
    ];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, _i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    const channels = unetInChannels(components);
    const scaled = (components.scheduler as Scheduler).scaleModelInput(bs.latents, t);
    if (channels !== 9) {
      bs.scaled_latents = scaled;
      return [components, bs];
    }
    const mask = bs.mask as Tensor<'float32'> | null | undefined;
    const masked = bs.masked_image_latents as Tensor<'float32'> | null | undefined;
    if (!mask || !masked) {
      throw new SdxlInputError(
        'mask and masked_image_latents must be provided for an inpainting-specific UNet (9 input channels); run the inpaint VAE encoder step or pass them.',
      );
    }
    const total = scaled.shape[1]! + mask.shape[1]! + masked.shape[1]!;
    if (total !== channels) {
      throw new SdxlInputError(
        `The UNet expects ${channels} input channels but latents (${scaled.shape[1]}) + mask (${mask.shape[1]}) + masked image latents ` +
          `(${masked.shape[1]}) = ${total}; check the UNet's config and the mask_image / image inputs.`,
      );
    }
    bs.scaled_latents = concat([scaled, mask, masked], 1);
    return [components, bs];
  }
}
