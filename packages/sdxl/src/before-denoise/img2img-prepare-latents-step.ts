/**
 * Image-to-image latents: the encoded image tiled to the final batch and
 * noised to `latent_timestep` (left clean with `denoising_start`, where the
 * latents come from a base model mid-schedule).
 */
import { TypedBlock, blockSpec, input, type BlockResult, type ComponentsOf, type PipelineState } from '@modular-diffusers/core';
import { cast, type Tensor } from '@modular-diffusers/runtime';
import { schedulerComponent, vaeComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { tileToBatch } from './batch-expand.js';
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

const img2imgPrepareLatentsSpec = blockSpec({
  description: 'Step that prepares the latents for the image-to-image generation process',
  components: { vae: vaeComponent(), scheduler: schedulerComponent() },
  inputs: {
    latents: input<Tensor | null>(),
    num_images_per_prompt: numImagesPerPromptInput(),
    denoising_start: input<number | null>(),
    generator: generatorInput(),
    latent_timestep: latentTimestepInput(),
    image_latents: imageLatentsInput(),
    batch_size: batchSizeInput('. Can be generated in input step.'),
    dtype: input<ModelDType>({ required: true, typeHint: 'dtype', description: 'The dtype of the model inputs' }),
  },
  outputs: { latents: latentsOutput() },
});

export class StableDiffusionXLImg2ImgPrepareLatentsStep extends TypedBlock(img2imgPrepareLatentsSpec) {
  static override modelName = MODEL;

  override async call(components: ComponentsOf<typeof img2imgPrepareLatentsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (bs.latents == null) {
      const scheduler = requireScheduler(components);
      const imageLatents = cast(bs.image_latents, 'float32');
      if (imageLatents.rank !== 4) throw new SdxlInputError('`image_latents` must be [batch, 4, height / 8, width / 8] latents from the VAE encoder step.');
      const batch = bs.batch_size * bs.num_images_per_prompt;
      const initLatents = tileToBatch(imageLatents, batch, 'image');
      if (bs.denoising_start == null) {
        const noise = randnLatents(initLatents.shape, bs.generator, bs.dtype);
        bs.latents = scheduler.addNoise(initLatents, noise, bs.latent_timestep.data);
      } else {
        bs.latents = initLatents;
      }
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}
