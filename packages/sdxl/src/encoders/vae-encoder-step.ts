/** Image-to-image's VAE encoder step: the image preprocessed to [-1, 1] and encoded into scaled latents. */
import { ComponentSpec, InputParam, OutputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import type { VaeImageProcessor } from '@modular-diffusers/runtime';
import { imageProcessorSpec } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { encodeVaeImage } from './encode-vae-image.js';
import { checkImageInput } from './image-input.js';

export class StableDiffusionXLVaeEncoderStep extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return 'Vae Encoder step that encode the input image into a latent representation';
  }

  override get expectedComponents() {
    return [new ComponentSpec('vae', 'AutoencoderKL'), imageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('image', { required: true }), new InputParam('height'), new InputParam('width')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      new InputParam('dtype', { typeHint: 'dtype', description: 'Data type of model tensor inputs' }),
      new InputParam('preprocess_kwargs', {
        typeHint: 'Optional[dict]',
        description:
          'A kwargs dictionary that if specified is passed along to the `ImageProcessor` as defined under `self.image_processor` in [diffusers.image_processor.VaeImageProcessor]',
      }),
    ];
  }

  override get intermediatesOutputs() {
    return [
      new OutputParam('image_latents', {
        typeHint: 'Tensor',
        description: 'The latents representing the reference image for image-to-image/inpainting generation',
      }),
    ];
  }

  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    checkImageInput(state.get('image'), 'image');
    const kwargs = state.get('preprocess_kwargs');
    if (kwargs != null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) {
      throw new SdxlInputError('`preprocess_kwargs` must be an object of VaeImageProcessor.preprocess options, e.g. { tensorRange: "[0,1]" }.');
    }
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const processor = components.image_processor as VaeImageProcessor;
    const image = await processor.preprocess(bs.image, { height: bs.height ?? undefined, width: bs.width ?? undefined, ...(bs.preprocess_kwargs ?? {}) });
    bs.image_latents = await encodeVaeImage(components.vae, image, { generator: bs.generator });
    this.setBlockState(state, bs);
    return [components, state];
  }
}
