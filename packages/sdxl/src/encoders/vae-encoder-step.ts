/** Image-to-image's VAE encoder step: the image preprocessed to [-1, 1] and encoded into scaled latents. */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import type { Tensor, VaeImageInput, VaePreprocessOptions } from '@modular-diffusers/runtime';
import { generatorInput, type ModelDType } from '../before-denoise/params.js';
import { imageProcessorComponent, vaeComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { encodeVaeImage } from './encode-vae-image.js';
import { checkImageInput } from './image-input.js';

const vaeEncoderSpec = blockSpec({
  description: 'Vae Encoder step that encode the input image into a latent representation',
  components: { vae: vaeComponent(), image_processor: imageProcessorComponent() },
  inputs: {
    image: input<VaeImageInput>({ required: true }),
    height: input<number | null>(),
    width: input<number | null>(),
    generator: generatorInput(),
    dtype: input<ModelDType | null>({ typeHint: 'dtype', description: 'Data type of model tensor inputs' }),
    preprocess_kwargs: input<VaePreprocessOptions | null>({
      typeHint: 'Optional[dict]',
      description:
        'A kwargs dictionary that if specified is passed along to the `ImageProcessor` as defined under `self.image_processor` in [diffusers.image_processor.VaeImageProcessor]',
    }),
  },
  outputs: {
    image_latents: output<Tensor<'float32'>>({
      typeHint: 'Tensor',
      description: 'The latents representing the reference image for image-to-image/inpainting generation',
    }),
  },
});

export class StableDiffusionXLVaeEncoderStep extends TypedBlock(vaeEncoderSpec) {
  static override modelName = 'stable-diffusion-xl';

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkImageInput(state.get('image'), 'image');
    const kwargs = state.get('preprocess_kwargs');
    if (kwargs != null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) {
      throw new SdxlInputError('`preprocess_kwargs` must be an object of VaeImageProcessor.preprocess options, e.g. { tensorRange: "[0,1]" }.');
    }
  }

  override async call(components: ComponentsOf<typeof vaeEncoderSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const processor = components.image_processor;
    const image = await processor.preprocess(bs.image, { height: bs.height ?? undefined, width: bs.width ?? undefined, ...(bs.preprocess_kwargs ?? {}) });
    bs.image_latents = await encodeVaeImage(components.vae, image, { generator: bs.generator });
    this.setBlockState(state, bs);
    return [components, state];
  }
}
