/**
 * Input and output declarations the before-denoise blocks share, worded as
 * diffusers' blocks word them, and typed (`input<T>()`, `output<T>()`) so
 * the blocks that declare them read typed state.
 */
import { input, output } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime';
import type { GeneratorInput } from './noise.js';
import type { NumberListInput } from './timestep-tensor.js';

export const MODEL = 'stable-diffusion-xl';
/** The kwargs tag of every value the guider splits into conditional/unconditional batches. */
export const GUIDER_FIELDS = 'guider_input_fields';

export const batchSizeInput = (suffix = '') =>
  input<number>({
    required: true,
    typeHint: 'int',
    description: `Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt${suffix}`,
  });

/** Latents as the caller or an earlier block gives them: float16 ones are turned to float32 by the blocks that need it. */
export const latentsInput = (extra = '') =>
  input<Tensor>({
    required: true,
    typeHint: 'Tensor',
    description: `The initial latents to use for the denoising process.${extra} Can be generated in prepare_latent step.`,
  });

export const latentTimestepInput = () =>
  input<Tensor<'float32'>>({
    required: true,
    typeHint: 'Tensor',
    description: 'The timestep that represents the initial noise level for image-to-image/inpainting generation. Can be generated in set_timesteps step.',
  });

export const imageLatentsInput = () =>
  input<Tensor>({
    required: true,
    typeHint: 'Tensor',
    description: 'The latents representing the reference image for image-to-image/inpainting generation. Can be generated in vae_encode step.',
  });

/** The schedule inputs both set-timesteps steps take (timesteps/sigmas: a custom schedule, else counted). */
export const scheduleInputs = () => ({
  num_inference_steps: input<number>({ default: 50 }),
  timesteps: input<NumberListInput | null>(),
  sigmas: input<NumberListInput | null>(),
  denoising_end: input<number | null>(),
});

export const timestepOutputs = () => ({
  timesteps: output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The timesteps to use for inference' }),
  num_inference_steps: output<number>({ typeHint: 'int', description: 'The number of denoising steps to perform at inference time' }),
});

export const latentsOutput = () =>
  output<Tensor<'float32'>>({ typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' });

/** One Generator, or one per image of the final batch (checked where the noise is drawn). */
export const generatorInput = () => input<GeneratorInput>();

export const numImagesPerPromptInput = () => input<number>({ default: 1 });

/** What `dtype` means in SDXL block states: the float type the UNet computes in. */
export type ModelDType = 'float32' | 'float16';
