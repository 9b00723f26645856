/**
 * The plugin's presets: SDXL text-to-image with the style step first. Copy
 * one before editing it (`BLOCK_PLUGIN_BLOCKS.copy()`).
 */
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { BlockPluginPromptStyleStep, MODEL_NAME } from './prompt-style-step.js';

export const BLOCK_PLUGIN_BLOCKS = TEXT2IMAGE_BLOCKS.copy();
BLOCK_PLUGIN_BLOCKS.insert('style', BlockPluginPromptStyleStep, 0);

/** The preset as one named blocks class: what a Hub repo's `auto_map` names. */
export class BlockPluginBlocks extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = BLOCK_PLUGIN_BLOCKS.values();
  static override blockNames = BLOCK_PLUGIN_BLOCKS.keys();

  override get description() {
    return 'Stable Diffusion XL text-to-image with a style phrase added to every prompt';
  }
}
