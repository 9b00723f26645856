/**
 * Inpainting's post-processing step: with `padding_mask_crop`, diffusers
 * inpaints a crop around the mask and pastes it back over the original
 * image here. This port does not crop yet (the inpaint VAE encoder step
 * rejects `padding_mask_crop` before anything runs), so `crops_coords` is
 * always null and the decoded images pass through unchanged.
 */
import { InputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import { imageProcessorSpec } from '../components/component-specs.js';
import { SdxlInputError } from '../errors.js';

export class StableDiffusionXLInpaintOverlayMaskStep extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return (
      'A post-processing step that overlays the mask on the image (inpainting task only).\n' +
      'only needed when you are using the `padding_mask_crop` option when pre-processing the image and mask'
    );
  }

  override get expectedComponents() {
    return [imageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('image'), new InputParam('mask_image'), new InputParam('padding_mask_crop')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('images', {
        typeHint: 'Union[List[PIL.Image.Image], List[Tensor], List[np.array]]',
        description: 'The generated images from the decode step',
      }),
      new InputParam('crops_coords', {
        typeHint: 'Tuple[int, int]',
        description: 'The crop coordinates to use for preprocess/postprocess the image and mask, for inpainting task only. Can be generated in vae_encode step.',
      }),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    if (bs.padding_mask_crop != null && bs.crops_coords != null) {
      throw new SdxlInputError('Pasting an inpainted crop back (`padding_mask_crop` with `crops_coords`) is not supported by this port yet; leave both out.');
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}
