/**
 * Loop step 1 for inpainting: scale the latents, and for a 9-channel
 * inpainting UNet append the mask and the masked image latents as extra
 * input channels.
 */
import { TypedBlock, blockSpec, input, type ComponentsOf } from '@modular-diffusers/core';
import { concat, type Tensor } from '@modular-diffusers/runtime';
import { schedulerComponent, unetComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { MODEL_NAME, latentsInput, maskInput, requireLoaded, unetInChannels, type LoopStateOf } from './loop-params.js';

const inpaintLoopBeforeDenoiserSpec = blockSpec({
  description:
    'step within the denoising loop that prepare the latent input for the denoiser (for inpainting workflow only). ' +
    'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object',
  components: { scheduler: schedulerComponent(), unet: unetComponent() },
  inputs: {
    latents: latentsInput(),
    mask: maskInput(),
    masked_image_latents: input<Tensor<'float32'> | null>({
      typeHint: 'Optional[Tensor]',
      description:
        'The masked image latents to use for the denoising process, for inpainting task only. Can be generated in vae_encode or prepare_latent step.',
    }),
  },
});

type LoopState = LoopStateOf<typeof inpaintLoopBeforeDenoiserSpec>;

export class StableDiffusionXLInpaintLoopBeforeDenoiser extends TypedBlock(inpaintLoopBeforeDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof inpaintLoopBeforeDenoiserSpec>, bs: LoopState, _i: number, t: number): Promise<[typeof components, LoopState]> {
    const channels = unetInChannels(components);
    const scaled = requireLoaded(components.scheduler, 'scheduler', this.className).scaleModelInput(bs.latents, t);
    if (channels !== 9) {
      bs.scaled_latents = scaled;
      return [components, bs];
    }
    const { mask, masked_image_latents: masked } = bs;
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
