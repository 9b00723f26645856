/**
 * The guide's `SDXLDiffDiffAutoDenoiseStep`: one denoise step for diff-diff
 * with or without ControlNet, picked by whether the ControlNet input step
 * produced `controlnet_cond` (it does when the user passes `control_image`).
 */
import { AutoPipelineBlocks } from '@modular-diffusers/core';
import { SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop } from './denoise-loops.js';
import { MODEL_NAME } from './params.js';

export class SDXLDiffDiffAutoDenoiseStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop];
  static override blockNames = ['controlnet_denoise', 'denoise'];
  static override blockTriggerInputs = ['controlnet_cond', null];

  override get description() {
    return (
      'Denoise step for differential diffusion, with or without controlnet.\n' +
      ' - `SDXLDiffDiffControlNetDenoiseLoop` (controlnet_denoise) is used when `controlnet_cond` is available (a `control_image` was passed).\n' +
      ' - `SDXLDiffDiffDenoiseLoop` (denoise) is used otherwise.'
    );
  }
}
