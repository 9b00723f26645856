/**
 * Inpainting latents: noise at full strength, else the encoded image noised
 * to `latent_timestep`; also returns the noise (a 4-channel UNet's loop
 * re-noises the image with it to keep the unmasked area) and brings the
 * latent-size mask and masked-image latents to the final batch. A
 * 4-channel UNet does not take masked-image latents, so they are dropped.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { cast, interpolate, scale, type Tensor } from '@modular-diffusers/runtime';
import { schedulerComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { numChannelsLatents, numChannelsUnet } from '../pipeline/sdxl-pipeline-properties.js';
import { tileToBatch } from './batch-expand.js';
import { checkStrength } from './img2img-set-timesteps-step.js';
import { randnLatents } from './noise.js';
import {
  MODEL,
  batchSizeInput,
  generatorInput,
  imageLatentsInput,
  latentTimestepInput,
  latentsOutput,
  numImagesPerPromptInput,
  type ModelDType,
} from './params.js';
import { requireScheduler } from './set-timesteps-step.js';

const inpaintPrepareLatentsSpec = blockSpec({
  description: 'Step that prepares the latents for the inpainting process',
  components: { scheduler: schedulerComponent() },
  inputs: {
    latents: input<Tensor | null>(),
    num_images_per_prompt: numImagesPerPromptInput(),
    denoising_start: input<number | null>(),
    strength: input<number>({
      default: 0.9999,
      description:
        'Conceptually, indicates how much to transform the reference `image` (the masked portion of image for inpainting). Must be between 0 and 1. `image` ' +
        'will be used as a starting point, adding more noise to it the larger the `strength`. The number of ' +
        'denoising steps depends on the amount of noise initially added. When `strength` is 1, added noise will ' +
        'be maximum and the denoising process will run for the full number of iterations specified in ' +
        '`num_inference_steps`. A value of 1, therefore, essentially ignores `image`. Note that in the case of ' +
        '`denoising_start` being declared as an integer, the value of `strength` will be ignored.',
    }),
    generator: generatorInput(),
    batch_size: batchSizeInput('. Can be generated in input step.'),
    latent_timestep: latentTimestepInput(),
    image_latents: imageLatentsInput(),
    mask: input<Tensor>({ required: true, typeHint: 'Tensor', description: 'The mask for the inpainting generation. Can be generated in vae_encode step.' }),
    masked_image_latents: input<Tensor | null>({
      typeHint: 'Tensor',
      description: 'The masked image latents for the inpainting generation (only for inpainting-specific unet). Can be generated in vae_encode step.',
    }),
    dtype: input<ModelDType | null>({ typeHint: 'dtype', description: 'The dtype of the model inputs' }),
  },
  outputs: {
    latents: latentsOutput(),
    noise: output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The noise added to the image latents, used for inpainting generation' }),
  },
});

export class StableDiffusionXLInpaintPrepareLatentsStep extends TypedBlock(inpaintPrepareLatentsSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkStrength(state.get('strength'));
  }

  override async call(components: ComponentsOf<typeof inpaintPrepareLatentsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    checkStrength(bs.strength);
    const scheduler = requireScheduler(components);
    const batch = bs.batch_size * bs.num_images_per_prompt;
    const isStrengthMax = bs.strength === 1;
    const addNoise = bs.denoising_start == null;
    const image = cast(bs.image_latents, 'float32');
    if (image.rank !== 4 || image.shape[1] !== numChannelsLatents(components)) {
      throw new SdxlInputError(`\`image_latents\` must be VAE latents [batch, ${numChannelsLatents(components)}, h, w]; encode the image with the inpaint VAE encoder step.`);
    }
    const [, , h, w] = image.shape;
    const shape = [batch, numChannelsLatents(components), h, w];
    const imageLatents = tileToBatch(image, batch, 'image');

    let latents: Tensor<'float32'>;
    let noise: Tensor<'float32'>;
    const given = bs.latents;
    if (given == null && addNoise) {
      noise = randnLatents(shape, bs.generator, bs.dtype ?? 'float32');
      latents = isStrengthMax ? scale(noise, scheduler.initNoiseSigma) : scheduler.addNoise(imageLatents, noise, bs.latent_timestep.data);
    } else if (given != null && addNoise) {
      noise = cast(given, 'float32');
      latents = scale(noise, scheduler.initNoiseSigma);
    } else {
      noise = randnLatents(shape, bs.generator, bs.dtype ?? 'float32');
      latents = imageLatents;
    }

    // The mask at latent size (nearest, as torch's interpolate default), one per final image.
    const mask = cast(bs.mask, 'float32');
    const latentMask = mask.shape[2] === h && mask.shape[3] === w ? mask : interpolate(mask, { size: [h, w], mode: 'nearest' });
    bs.mask = tileToBatch(latentMask, batch, 'mask');
    const masked = bs.masked_image_latents;
    const keepMasked = numChannelsUnet(components) !== 4 && masked != null;
    bs.masked_image_latents = keepMasked ? tileToBatch(cast(masked, 'float32'), batch, 'masked image') : null;
    bs.image_latents = imageLatents;
    bs.latents = latents;
    bs.noise = noise;
    this.setBlockState(state, bs);
    return [components, state];
  }
}
