/** Declarations both prepare-additional-conditioning steps share. */
import { input, output } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime';
import type { Pair } from './add-time-ids.js';
import { GUIDER_FIELDS, batchSizeInput, latentsInput, numImagesPerPromptInput } from './params.js';

export const additionalConditioningOutputs = () => ({
  add_time_ids: output<Tensor<'float32'>>({ typeHint: 'Tensor', kwargsType: GUIDER_FIELDS, description: 'The time ids to condition the denoising process' }),
  negative_add_time_ids: output<Tensor<'float32'>>({
    typeHint: 'Tensor',
    kwargsType: GUIDER_FIELDS,
    description: 'The negative time ids to condition the denoising process',
  }),
  timestep_cond: output<Tensor<'float32'> | null>({ typeHint: 'Tensor', description: 'The timestep cond to use for LCM' }),
});

export const additionalConditioningIntermediates = () => ({
  latents: latentsInput(),
  pooled_prompt_embeds: input<Tensor>({
    required: true,
    typeHint: 'Tensor',
    description:
      'The pooled prompt embeddings to use for the denoising process (used to determine shapes and dtypes for other additional conditioning inputs). Can be generated in text_encoder step.',
  }),
  batch_size: batchSizeInput('. Can be generated in input step.'),
});

/** Sizes are checked as pairs by validateInputs (pairOf) before the block reads them. */
export const sizeInputs = () => ({
  original_size: input<Pair | null>(),
  target_size: input<Pair | null>(),
  negative_original_size: input<Pair | null>(),
  negative_target_size: input<Pair | null>(),
  crops_coords_top_left: input<Pair>({ default: [0, 0] }),
  negative_crops_coords_top_left: input<Pair>({ default: [0, 0] }),
  num_images_per_prompt: numImagesPerPromptInput(),
});

export const SIZE_INPUT_NAMES = [
  'original_size',
  'target_size',
  'negative_original_size',
  'negative_target_size',
  'crops_coords_top_left',
  'negative_crops_coords_top_left',
] as const;
