/**
 * Inpainting's VAE encoder step: the image and the mask preprocessed to the
 * same size (the mask binarised, 1 = repaint), the image encoded, the mask
 * brought to latent size, and the masked image (the kept pixels only)
 * encoded for 9-channel inpainting UNets.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { cast, interpolate, less, mul, type Tensor, type VaeImageInput } from '@modular-diffusers/runtime';
import { tileToBatch } from '../before-denoise/batch-expand.js';
import { generatorInput, type ModelDType } from '../before-denoise/params.js';
import { imageProcessorComponent, maskProcessorComponent, vaeComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import { defaultSampleSize, vaeScaleFactor } from '../pipeline/sdxl-pipeline-properties.js';
import { encodeVaeImage } from './encode-vae-image.js';
import { checkImageInput, imageSizes, isImageInput } from './image-input.js';

const inpaintVaeEncoderSpec = blockSpec({
  description: 'Vae encoder step that prepares the image and mask for the inpainting process',
  components: { vae: vaeComponent(), image_processor: imageProcessorComponent(), mask_processor: maskProcessorComponent() },
  inputs: {
    height: input<number | null>(),
    width: input<number | null>(),
    image: input<VaeImageInput>({ required: true }),
    mask_image: input<VaeImageInput>({ required: true }),
    padding_mask_crop: input<number | null>(),
    dtype: input<ModelDType | null>({ typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    generator: generatorInput(),
  },
  outputs: {
    image_latents: output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The latents representation of the input image' }),
    mask: output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The mask to use for the inpainting process' }),
    masked_image_latents: output<Tensor<'float32'>>({
      typeHint: 'Tensor',
      description: 'The masked image latents to use for the inpainting process (only for inpainting-specifid unet)',
    }),
    crops_coords: output<readonly [number, number] | null>({
      typeHint: 'Optional[Tuple[int, int]]',
      description: 'The crop coordinates to use for the preprocess/postprocess of the image and mask',
    }),
  },
});

export class StableDiffusionXLInpaintVaeEncoderStep extends TypedBlock(inpaintVaeEncoderSpec) {
  static override modelName = 'stable-diffusion-xl';

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    const image = state.get('image');
    const mask = state.get('mask_image');
    checkImageInput(image, 'image');
    checkImageInput(mask, 'mask_image');
    if (state.get('padding_mask_crop') != null) {
      throw new SdxlInputError(
        '`padding_mask_crop` (inpaint a crop around the mask, then paste it back) is not supported by this port yet; ' +
          'leave it out to inpaint the whole image at `height` x `width`.',
      );
    }
    // Absent ones are reported as missing when the block runs; the checks above let only image inputs through.
    if (!isImageInput(image) || !isImageInput(mask)) return;
    const imageSize = imageSizes(image);
    const maskSize = imageSizes(mask);
    const differs = maskSize.findIndex((size, i) => {
      const other = imageSize[Math.min(i, imageSize.length - 1)]!;
      return size[0] !== other[0] || size[1] !== other[1];
    });
    if (differs >= 0) {
      const [mh, mw] = maskSize[differs]!;
      const [ih, iw] = imageSize[Math.min(differs, imageSize.length - 1)]!;
      throw new SdxlInputError(
        `\`mask_image\` is ${mw}x${mh} but \`image\` is ${iw}x${ih} (width x height); the mask must cover the image pixel for pixel. ` +
          'Resize the mask to the image size first.',
      );
    }
  }

  override async call(components: ComponentsOf<typeof inpaintVaeEncoderSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    this.validateInputs(components, state);
    const factor = vaeScaleFactor(components);
    const height = bs.height ?? defaultSampleSize(components) * factor;
    const width = bs.width ?? defaultSampleSize(components) * factor;
    const imageProcessor = components.image_processor;
    const maskProcessor = components.mask_processor;
    const image = await imageProcessor.preprocess(bs.image, { height, width });
    const mask = await maskProcessor.preprocess(bs.mask_image, { height, width });
    // Pixels to keep: mask < 0.5 (the mask is binarised, 1 marks what to repaint).
    const maskedImage = mul(image, cast(less(mask, 0.5), 'float32'));

    bs.image_latents = await encodeVaeImage(components.vae, image, { generator: bs.generator });
    const batch = image.shape[0]!;
    const latentMask = interpolate(mask, { size: [Math.trunc(height / factor), Math.trunc(width / factor)], mode: 'nearest' });
    bs.mask = tileToBatch(latentMask, batch, 'mask');
    bs.masked_image_latents = await encodeVaeImage(components.vae, maskedImage, { generator: bs.generator });
    bs.crops_coords = null;
    this.setBlockState(state, bs);
    return [components, state];
  }
}
