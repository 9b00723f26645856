/**
 * The diff-diff presets as data, built the way the guide builds them:
 * IMAGE2IMAGE_BLOCKS with text-to-image timesteps (diff-diff has no
 * `strength`) and the diff-diff prepare-latents and denoise steps; the auto
 * preset adds the auto IP-Adapter step at 0 and the auto ControlNet input
 * step at 7, before the auto denoise. Copy before editing:
 * `const blocks = DIFFDIFF_BLOCKS.copy()`.
 */
import type { BlockLike, InsertableOrderedDict } from '@modular-diffusers/core';
import { IMAGE2IMAGE_BLOCKS, StableDiffusionXLAutoIPAdapterStep, StableDiffusionXLControlNetAutoInput, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl/blocks';
import { SDXLDiffDiffAutoDenoiseStep } from './auto-denoise-step.js';
import { SDXLDiffDiffDenoiseLoop } from './denoise-loops.js';
import { SDXLDiffDiffPrepareLatentsStep } from './prepare-latents-step.js';

function diffDiffBlocks(): InsertableOrderedDict<BlockLike> {
  const blocks = IMAGE2IMAGE_BLOCKS.copy();
  blocks['set_timesteps'] = TEXT2IMAGE_BLOCKS.getOrThrow('set_timesteps');
  blocks['prepare_latents'] = SDXLDiffDiffPrepareLatentsStep;
  blocks['denoise'] = SDXLDiffDiffDenoiseLoop;
  return blocks;
}

function diffDiffAutoBlocks(): InsertableOrderedDict<BlockLike> {
  const blocks = IMAGE2IMAGE_BLOCKS.copy();
  blocks['prepare_latents'] = SDXLDiffDiffPrepareLatentsStep;
  blocks['set_timesteps'] = TEXT2IMAGE_BLOCKS.getOrThrow('set_timesteps');
  blocks['denoise'] = SDXLDiffDiffAutoDenoiseStep;
  blocks.insert('ip_adapter', StableDiffusionXLAutoIPAdapterStep, 0);
  blocks.insert('controlnet_input', StableDiffusionXLControlNetAutoInput, 7);
  return blocks;
}

/** The guide's DIFFDIFF_BLOCKS: text_encoder, image_encoder, input, set_timesteps, prepare_latents, prepare_add_cond, denoise, decode. */
export const DIFFDIFF_BLOCKS = diffDiffBlocks();

/** The guide's DIFFDIFF_AUTO_BLOCKS: DIFFDIFF_BLOCKS with ip_adapter at 0, controlnet_input at 7 and the auto denoise. */
export const DIFFDIFF_AUTO_BLOCKS = diffDiffAutoBlocks();
