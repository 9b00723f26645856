/**
 * Inpainting's post-processing step: with `padding_mask_crop`, diffusers
 * inpaints a crop around the mask and pastes it back over the original
 * image here. This port does not crop yet (the inpaint VAE encoder step
 * rejects `padding_mask_crop` before anything runs), so `crops_coords` is
 * always null and the decoded images pass through unchanged.
 */
import { TypedBlock, blockSpec, input, type BlockResult, type ComponentsOf, type PipelineState } from '@modular-diffusers/core';
import type { VaeImageInput } from '@modular-diffusers/runtime';
import { imageProcessorComponent } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';
import type { DecodedImages } from './decode-step.js';

const overlayMaskSpec = blockSpec({
  description:
    'A post-processing step that overlays the mask on the image (inpainting task only).\n' +
    'only needed when you are using the `padding_mask_crop` option when pre-processing the image and mask',
  components: { image_processor: imageProcessorComponent() },
  inputs: {
    image: input<VaeImageInput | null>(),
    mask_image: input<VaeImageInput | null>(),
    padding_mask_crop: input<number | null>(),
    images: input<DecodedImages | null>({
      typeHint: 'Union[List[PIL.Image.Image], List[Tensor], List[np.array]]',
      description: 'The generated images from the decode step',
    }),
    crops_coords: input<readonly [number, number] | null>({
      typeHint: 'Tuple[int, int]',
      description: 'The crop coordinates to use for preprocess/postprocess the image and mask, for inpainting task only. Can be generated in vae_encode step.',
    }),
  },
});

export class StableDiffusionXLInpaintOverlayMaskStep extends TypedBlock(overlayMaskSpec) {
  static override modelName = 'stable-diffusion-xl';

  override async call(components: ComponentsOf<typeof overlayMaskSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (bs.padding_mask_crop != null && bs.crops_coords != null) {
      throw new SdxlInputError('Pasting an inpainted crop back (`padding_mask_crop` with `crops_coords`) is not supported by this port yet; leave both out.');
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}
