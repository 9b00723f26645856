/** Declarations both prepare-additional-conditioning steps share. */
import { InputParam, OutputParam } from '@modular-diffusers/core';
import { GUIDER_FIELDS, batchSizeInput, latentsInput } from './params.js';

export const additionalConditioningOutputs = () => [
  new OutputParam('add_time_ids', { typeHint: 'Tensor', kwargsType: GUIDER_FIELDS, description: 'The time ids to condition the denoising process' }),
  new OutputParam('negative_add_time_ids', {
    typeHint: 'Tensor',
    kwargsType: GUIDER_FIELDS,
    description: 'The negative time ids to condition the denoising process',
  }),
  new OutputParam('timestep_cond', { typeHint: 'Tensor', description: 'The timestep cond to use for LCM' }),
];

export const additionalConditioningIntermediates = () => [
  latentsInput(),
  new InputParam('pooled_prompt_embeds', {
    required: true,
    typeHint: 'Tensor',
    description:
      'The pooled prompt embeddings to use for the denoising process (used to determine shapes and dtypes for other additional conditioning inputs). Can be generated in text_encoder step.',
  }),
  batchSizeInput('. Can be generated in input step.'),
];

export const sizeInputs = () => [
  new InputParam('original_size'),
  new InputParam('target_size'),
  new InputParam('negative_original_size'),
  new InputParam('negative_target_size'),
  new InputParam('crops_coords_top_left', { default: [0, 0] }),
  new InputParam('negative_crops_coords_top_left', { default: [0, 0] }),
  new InputParam('num_images_per_prompt', { default: 1 }),
];

export const SIZE_INPUT_NAMES = [
  'original_size',
  'target_size',
  'negative_original_size',
  'negative_target_size',
  'crops_coords_top_left',
  'negative_crops_coords_top_left',
] as const;
