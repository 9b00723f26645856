/**
 * DIFFDIFF_AUTO_BLOCKS as one named blocks class: what a Hub repo's
 * `auto_map` names, so `fromPretrained` can build the whole workflow.
 */
import { OutputParam, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { MODEL_NAME } from './params.js';
import { DIFFDIFF_AUTO_BLOCKS } from './presets.js';

export class SDXLDiffDiffBlocks extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = DIFFDIFF_AUTO_BLOCKS.values();
  static override blockNames = DIFFDIFF_AUTO_BLOCKS.keys();

  override get description() {
    return (
      'Differential diffusion for Stable Diffusion XL: image-to-image where a change map sets how much each region may change.\n' +
      '- `image`, `diffdiff_map` and `prompt` are required; white in the change map keeps the original, black lets the prompt repaint it, grays in between\n' +
      '- to condition on a reference image, load an IP-Adapter and pass `ip_adapter_image`\n' +
      '- to guide the shape with a ControlNet, pass `control_image` (and `control_mode` for ControlNet-Union)'
    );
  }

  /** As diffusers' auto blocks: the result is the images; intermediates stay in the state. */
  override get outputs(): OutputParam[] {
    return [new OutputParam('images', { typeHint: 'List[RgbImage]', description: 'The generated images' })];
  }
}
