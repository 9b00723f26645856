/**
 * Image-to-image latents: the encoded image tiled to the final batch and
 * noised to `latent_timestep` (left clean with `denoising_start`, where the
 * latents come from a base model mid-schedule).
 */
import { InputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { schedulerSpec, vaeSpec } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { tileToBatch } from './batch-expand.js';
import { asFloat32, randnLatents } from './noise.js';
import { MODEL, batchSizeInput, imageLatentsInput, latentTimestepInput, latentsOutput } from './params.js';
import { requireScheduler } from './set-timesteps-step.js';

export class StableDiffusionXLImg2ImgPrepareLatentsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Step that prepares the latents for the image-to-image generation process';
  }

  override get expectedComponents() {
    return [vaeSpec(), schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('latents'), new InputParam('num_images_per_prompt', { default: 1 }), new InputParam('denoising_start')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      latentTimestepInput(),
      imageLatentsInput(),
      batchSizeInput('. Can be generated in input step.'),
      new InputParam('dtype', { required: true, typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    ];
  }

  override get intermediatesOutputs() {
    return [latentsOutput()];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (bs.latents == null) {
      const scheduler = requireScheduler(components);
      const imageLatents = asFloat32(bs.image_latents);
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
