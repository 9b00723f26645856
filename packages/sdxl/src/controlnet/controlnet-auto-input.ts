/**
 * The guide's auto ControlNet input block: the union step when `control_mode`
 * is given, the plain step when only `control_image` is, skipped otherwise.
 */
import { AutoPipelineBlocks } from '@modular-diffusers/core';
import { MODEL_NAME } from '../denoise/loop-params.js';
import { StableDiffusionXLControlNetInputStep } from './controlnet-input-step.js';
import { StableDiffusionXLControlNetUnionInputStep } from './controlnet-union-input-step.js';

export class StableDiffusionXLControlNetAutoInput extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLControlNetUnionInputStep, StableDiffusionXLControlNetInputStep];
  static override blockNames = ['controlnet_union', 'controlnet'];
  static override blockTriggerInputs = ['control_mode', 'control_image'];

  override get description() {
    return (
      'Controlnet Input step that prepare the controlnet input.\n' +
      'This is an auto pipeline block that works for both controlnet and controlnet_union.\n' +
      ' - `StableDiffusionXLControlNetUnionInputStep` is called to prepare the controlnet input when `control_mode` and `control_image` are provided.\n' +
      ' - `StableDiffusionXLControlNetInputStep` is called to prepare the controlnet input when `control_image` is provided.'
    );
  }
}
