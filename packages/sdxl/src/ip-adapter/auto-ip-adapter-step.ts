/** The guide's auto IP-Adapter block: runs the IP-Adapter step only when `ip_adapter_image` is given. */
import { AutoPipelineBlocks } from '@modular-diffusers/core';
import { MODEL_NAME } from '../denoise/loop-params.js';
import { StableDiffusionXLIPAdapterStep } from './ip-adapter-step.js';

export class StableDiffusionXLAutoIPAdapterStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLIPAdapterStep];
  static override blockNames = ['ip_adapter'];
  static override blockTriggerInputs = ['ip_adapter_image'];

  override get description() {
    return 'Run IP Adapter step if `ip_adapter_image` is provided.';
  }
}
