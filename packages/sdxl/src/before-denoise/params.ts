/** Input and output declarations the before-denoise blocks share, worded as diffusers' blocks word them. */
import { InputParam, OutputParam } from '@modular-diffusers/core';

export const MODEL = 'stable-diffusion-xl';
/** The kwargs tag of every value the guider splits into conditional/unconditional batches. */
export const GUIDER_FIELDS = 'guider_input_fields';

export const batchSizeInput = (suffix = '') =>
  new InputParam('batch_size', {
    required: true,
    typeHint: 'int',
    description: `Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt${suffix}`,
  });

export const latentsInput = (extra = '') =>
  new InputParam('latents', {
    required: true,
    typeHint: 'Tensor',
    description: `The initial latents to use for the denoising process.${extra} Can be generated in prepare_latent step.`,
  });

export const latentTimestepInput = () =>
  new InputParam('latent_timestep', {
    required: true,
    typeHint: 'Tensor',
    description: 'The timestep that represents the initial noise level for image-to-image/inpainting generation. Can be generated in set_timesteps step.',
  });

export const imageLatentsInput = () =>
  new InputParam('image_latents', {
    required: true,
    typeHint: 'Tensor',
    description: 'The latents representing the reference image for image-to-image/inpainting generation. Can be generated in vae_encode step.',
  });

export const timestepOutputs = () => [
  new OutputParam('timesteps', { typeHint: 'Tensor', description: 'The timesteps to use for inference' }),
  new OutputParam('num_inference_steps', { typeHint: 'int', description: 'The number of denoising steps to perform at inference time' }),
];

export const latentsOutput = () =>
  new OutputParam('latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' });
