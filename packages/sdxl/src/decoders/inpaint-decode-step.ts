/** Inpainting's decode: decode, then the mask overlay (diffusers' StableDiffusionXLInpaintDecodeStep). */
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { StableDiffusionXLDecodeStep } from './decode-step.js';
import { StableDiffusionXLInpaintOverlayMaskStep } from './inpaint-overlay-mask-step.js';

export class StableDiffusionXLInpaintDecodeStep extends SequentialPipelineBlocks {
  static override modelName = 'stable-diffusion-xl';
  static override blockClasses = [StableDiffusionXLDecodeStep, StableDiffusionXLInpaintOverlayMaskStep];
  static override blockNames = ['decode', 'mask_overlay'];

  override get description() {
    return (
      'Inpaint decode step that decode the denoised latents into images outputs.\n' +
      'This is a sequential pipeline blocks:\n' +
      ' - `StableDiffusionXLDecodeStep` is used to decode the denoised latents into images\n' +
      ' - `StableDiffusionXLInpaintOverlayMaskStep` is used to overlay the mask on the image'
    );
  }
}
