/**
 * Declarations the diff-diff blocks share, worded as the developer guide's
 * listings word them, so printouts and `doc` read like the guide. They are
 * typed (`input<T>()`, `output<T>()`), so the blocks read typed state.
 */
import { component, componentSpecOf, input, output } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime/tensor';

export const MODEL_NAME = 'stable-diffusion-xl';

/** What the block needs of `components.mask_processor` (a VaeImageProcessor, or anything shaped like one). */
export interface ChangeMapProcessor {
  preprocess(image: unknown, options: { height?: number; width?: number }): Promise<Tensor>;
}

/**
 * The change map's processor: a grayscale VaeImageProcessor left in [0, 1],
 * created from this config unless the user updates it (the guide's spec).
 * Null until created or loaded.
 */
export const maskProcessorComponent = () =>
  component<ChangeMapProcessor | null>('VaeImageProcessor', {
    config: { do_normalize: false, do_convert_grayscale: true },
    defaultCreationMethod: 'fromConfig',
  });

/** An image (RgbImage-shaped) or a float32 Tensor in [0, 1], or a list of one; checked by validateInputs. */
export const diffdiffMapInput = () => input<unknown>({ required: true });

export const originalLatentsOutput = () =>
  output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' });

export const diffdiffMasksOutput = () =>
  output<Tensor<'bool'>>({ typeHint: 'Tensor', description: 'The masks used for the differential diffusion denoising process' });

export const originalLatentsInput = () =>
  input<Tensor<'float32'>>({
    typeHint: 'Tensor',
    description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
  });

export const diffdiffMasksInput = () =>
  input<Tensor<'bool'>>({
    typeHint: 'Tensor',
    description: 'The masks used for the differential diffusion denoising process, can be generated in prepare_latent step.',
  });

/** The mask processor's spec, for code that builds specs directly. */
export const maskProcessorSpec = () => componentSpecOf('mask_processor', maskProcessorComponent());
