/**
 * Prepares the ControlNet inputs for the denoise loop: the control image at
 * the latents' pixel size, one row per generated image; the guidance window
 * as `controlnet_keep` (1 for the steps inside [start, end]); the
 * conditioning scale and guess mode.
 */
import { TypedBlock, blockSpec, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { controlnetComponent } from '../components/component-specs.js';
import { MODEL_NAME, requireLoaded, timestepList } from '../denoise/loop-params.js';
import {
  checkControlNetInputs,
  controlImageInput,
  controlImageProcessorComponent,
  controlImageSize,
  controlNetInputs,
  controlNetIntermediates,
  controlNetOutputs,
  controlnetKeep,
  guidanceWindow,
  prepareControlImage,
} from './controlnet-inputs.js';
import { checkControlNetFitsUNet } from './controlnet-unet-check.js';

const controlNetInputSpec = blockSpec({
  description: 'step that prepare inputs for controlnet',
  components: { controlnet: controlnetComponent(), control_image_processor: controlImageProcessorComponent() },
  inputs: { control_image: controlImageInput(), ...controlNetInputs(), ...controlNetIntermediates() },
  outputs: controlNetOutputs(),
});

export class StableDiffusionXLControlNetInputStep extends TypedBlock(controlNetInputSpec) {
  static override modelName = MODEL_NAME;

  override validateInputs(components: ModularPipeline, state: PipelineState): void {
    checkControlNetInputs(state);
    if (state.get('control_image') != null) checkControlNetFitsUNet(components);
  }

  override async call(components: ComponentsOf<typeof controlNetInputSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const controlnet = requireLoaded(components.controlnet, 'controlnet', this.className);
    const processor = requireLoaded(components.control_image_processor, 'control_image_processor', this.className);
    const window = guidanceWindow(bs.control_guidance_start, bs.control_guidance_end);
    bs.control_guidance_start = window.start;
    bs.control_guidance_end = window.end;
    bs.guess_mode = bs.guess_mode === true || controlnet.globalPoolConditions;
    bs.controlnet_cond = await prepareControlImage(
      processor,
      bs.control_image,
      controlImageSize(components, bs.latents),
      { batchSize: bs.batch_size, numImagesPerPrompt: bs.num_images_per_prompt },
      bs.crops_coords,
    );
    bs.controlnet_keep = controlnetKeep(timestepList(bs.timesteps).length, window.start[0]!, window.end[0]!);
    bs.conditioning_scale = bs.controlnet_conditioning_scale;
    this.setBlockState(state, bs);
    return [components, state];
  }
}
