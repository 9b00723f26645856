/**
 * Prepares the ControlNet inputs for the denoise loop: the control image at
 * the latents' pixel size, one row per generated image; the guidance window
 * as `controlnet_keep` (1 for the steps inside [start, end]); the
 * conditioning scale and guess mode.
 */
import { ComponentSpec, InputParam, PipelineBlock, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import type { Tensor, VaeImageProcessor } from '@modular-diffusers/runtime';
import type { ControlNetModel } from '../components/controlnet.js';
import { MODEL_NAME, requireComponent, timestepList } from '../denoise/loop-params.js';
import {
  checkControlNetInputs,
  controlImageProcessorSpec,
  controlImageSize,
  controlNetInputs,
  controlNetIntermediates,
  controlNetOutputs,
  controlnetKeep,
  guidanceWindow,
  prepareControlImage,
} from './controlnet-inputs.js';
import { checkControlNetFitsUNet } from './controlnet-unet-check.js';

export class StableDiffusionXLControlNetInputStep extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return 'step that prepare inputs for controlnet';
  }

  override get expectedComponents() {
    return [new ComponentSpec('controlnet', 'ControlNetModel'), controlImageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('control_image', { required: true }), ...controlNetInputs()];
  }

  override get intermediatesInputs() {
    return controlNetIntermediates();
  }

  override get intermediatesOutputs() {
    return controlNetOutputs();
  }

  override validateInputs(components: PipelineComponents, state: PipelineState): void {
    checkControlNetInputs(state);
    if (state.get('control_image') != null) checkControlNetFitsUNet(components);
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const controlnet = requireComponent<ControlNetModel>(components, 'controlnet', this.className);
    const processor = requireComponent<VaeImageProcessor>(components, 'control_image_processor', this.className);
    const window = guidanceWindow(bs.control_guidance_start, bs.control_guidance_end);
    bs.control_guidance_start = window.start;
    bs.control_guidance_end = window.end;
    bs.guess_mode = bs.guess_mode === true || controlnet.globalPoolConditions;
    bs.controlnet_cond = await prepareControlImage(
      processor,
      bs.control_image,
      controlImageSize(components, bs.latents as Tensor),
      { batchSize: bs.batch_size, numImagesPerPrompt: bs.num_images_per_prompt },
      bs.crops_coords,
    );
    bs.controlnet_keep = controlnetKeep(timestepList(bs.timesteps).length, window.start[0]!, window.end[0]!);
    bs.conditioning_scale = bs.controlnet_conditioning_scale;
    this.setBlockState(state, bs);
    return [components, state];
  }
}
