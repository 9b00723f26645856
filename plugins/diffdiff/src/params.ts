/**
 * Declarations the diff-diff blocks share, worded as the developer guide's
 * listings word them, so printouts and `doc` read like the guide.
 */
import { ComponentSpec, InputParam, OutputParam } from '@modular-diffusers/core';

export const MODEL_NAME = 'stable-diffusion-xl';

/**
 * The change map's processor: a grayscale VaeImageProcessor left in [0, 1],
 * created from this config unless the user updates it (the guide's spec).
 */
export const maskProcessorSpec = () =>
  new ComponentSpec('mask_processor', 'VaeImageProcessor', {
    config: { do_normalize: false, do_convert_grayscale: true },
    defaultCreationMethod: 'fromConfig',
  });

export const diffdiffMapInput = () => new InputParam('diffdiff_map', { required: true });

export const originalLatentsOutput = () =>
  new OutputParam('original_latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' });

export const diffdiffMasksOutput = () =>
  new OutputParam('diffdiff_masks', { typeHint: 'Tensor', description: 'The masks used for the differential diffusion denoising process' });

export const originalLatentsInput = () =>
  new InputParam('original_latents', {
    typeHint: 'Tensor',
    description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
  });

export const diffdiffMasksInput = () =>
  new InputParam('diffdiff_masks', {
    typeHint: 'Tensor',
    description: 'The masks used for the differential diffusion denoising process, can be generated in prepare_latent step.',
  });
