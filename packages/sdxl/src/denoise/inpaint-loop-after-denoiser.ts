/**
 * Loop step 3 for inpainting: the scheduler step, then, for a 4-channel
 * UNet, the area outside the mask is put back to the original image
 * latents noised to the next timestep: `(1 - mask) * noised_image + mask * latents`.
 */
import { TypedBlock, blockSpec, input, output, type ComponentsOf } from '@modular-diffusers/core';
import { mix, type Tensor } from '@modular-diffusers/runtime';
import { schedulerComponent, unetComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { schedulerStep } from './loop-after-denoiser.js';
import {
  MODEL_NAME,
  etaInput,
  generatorInput,
  maskInput,
  requireLoaded,
  timestepList,
  timestepsInput,
  unetInChannels,
  type LoopStateOf,
} from './loop-params.js';

const inpaintLoopAfterDenoiserSpec = blockSpec({
  description:
    'step within the denoising loop that update the latents (for inpainting workflow only). ' +
    'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object (e.g. `StableDiffusionXLDenoiseLoopWrapper`)',
  components: { scheduler: schedulerComponent(), unet: unetComponent() },
  inputs: {
    eta: etaInput(),
    generator: generatorInput(),
    timesteps: timestepsInput(),
    mask: maskInput(),
    noise: input<Tensor | null>({
      typeHint: 'Optional[Tensor]',
      description: 'The noise added to the image latents, for inpainting task only. Can be generated in prepare_latent step.',
    }),
    image_latents: input<Tensor<'float32'> | null>({
      typeHint: 'Optional[Tensor]',
      description:
        'The image latents to use for the denoising process, for inpainting/image-to-image task only. Can be generated in vae_encode or prepare_latent step.',
    }),
  },
  outputs: { latents: output<Tensor>({ typeHint: 'Tensor', description: 'The denoised latents' }) },
});

type LoopState = LoopStateOf<typeof inpaintLoopAfterDenoiserSpec>;

/** What a 4-channel UNet's step puts the unmasked area back from. */
interface KeptArea {
  imageLatents: Tensor<'float32'>;
  mask: Tensor<'float32'>;
  noise: Tensor;
}

export class StableDiffusionXLInpaintLoopAfterDenoiser extends TypedBlock(inpaintLoopAfterDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof inpaintLoopAfterDenoiserSpec>, bs: LoopState, i: number, t: number): Promise<[typeof components, LoopState]> {
    const scheduler = requireLoaded(components.scheduler, 'scheduler', this.className);
    const kept = unetInChannels(components) === 4 ? this.keptArea(bs) : null;
    const latents = schedulerStep(scheduler, bs, t);
    if (!kept) {
      bs.latents = latents;
      return [components, bs];
    }
    const timesteps = timestepList(bs.timesteps);
    let original = kept.imageLatents;
    if (i < timesteps.length - 1) original = scheduler.addNoise(original, kept.noise, [timesteps[i + 1]!]);
    bs.latents = mix(original, latents, kept.mask);
    return [components, bs];
  }

  private keptArea(bs: LoopState): KeptArea {
    const { image_latents: imageLatents, mask, noise } = bs;
    if (!imageLatents || !mask || !noise) {
      const missing = !imageLatents ? 'image_latents' : !mask ? 'mask' : 'noise';
      throw new SdxlInputError(`${missing} is required for ${this.className} with a 4-channel UNet; run the inpaint prepare-latents step or pass it.`);
    }
    return { imageLatents, mask, noise };
  }
}
