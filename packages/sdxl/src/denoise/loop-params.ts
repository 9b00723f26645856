/**
 * Declarations shared by the SDXL denoise-loop blocks, worded as diffusers'
 * (and the developer guide's) blocks word them, plus the small readers the
 * loop steps share.
 */
import { InputParam, InvalidArgumentError, type PipelineComponents } from '@modular-diffusers/core';
import { Tensor, randnTensor, type Generator } from '@modular-diffusers/runtime';
import type { NoiseGenerator } from '@modular-diffusers/diffusion';

export const MODEL_NAME = 'stable-diffusion-xl';

/** The loop-step note every loop sub-block's description ends with. */
export const LOOP_STEP_NOTE =
  'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object (e.g. `StableDiffusionXLDenoiseLoopWrapper`)';

export const latentsInput = () =>
  new InputParam('latents', {
    required: true,
    typeHint: 'Tensor',
    description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
  });

export const numInferenceStepsInput = () =>
  new InputParam('num_inference_steps', {
    required: true,
    typeHint: 'int',
    description: 'The number of inference steps to use for the denoising process. Can be generated in set_timesteps step.',
  });

export const timestepsInput = () =>
  new InputParam('timesteps', {
    required: true,
    typeHint: 'Tensor',
    description: 'The timesteps to use for the denoising process. Can be generated in set_timesteps step.',
  });

export const maskInput = () =>
  new InputParam('mask', {
    typeHint: 'Optional[Tensor]',
    description: 'The mask to use for the denoising process, for inpainting task only. Can be generated in vae_encode or prepare_latent step.',
  });

export const guiderInputFields = () =>
  new InputParam({
    kwargsType: 'guider_input_fields',
    description:
      'All conditional model inputs that need to be prepared with guider. It should contain prompt_embeds/negative_prompt_embeds, ' +
      'add_time_ids/negative_add_time_ids, pooled_prompt_embeds/negative_pooled_prompt_embeds, and ip_adapter_embeds/negative_ip_adapter_embeds (optional).',
  });

export const timestepCondInput = (description: string) => new InputParam('timestep_cond', { typeHint: 'Optional[Tensor]', description });

/** The schedule as plain numbers, from a scheduler's Float32Array, a number list or a 1-D Tensor. */
export function timestepList(value: unknown): number[] {
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) return Array.from(value);
  if (value instanceof Tensor && value.rank <= 1 && value.dtype !== 'bool') return Array.from(value.data as ArrayLike<number | bigint>, Number);
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  throw new InvalidArgumentError(
    `timesteps must be a list of numbers, a Float32Array or a 1-D Tensor (what the set_timesteps step outputs), got ${value === null ? 'null' : typeof value}.`,
  );
}

/** Latent channels the UNet takes (4, or 9 for an inpainting UNet). */
export function unetInChannels(components: PipelineComponents): number {
  const fromPipeline = (components as { numChannelsUnet?: unknown }).numChannelsUnet;
  if (typeof fromPipeline === 'number') return fromPipeline;
  const unet = components.unet as { inChannels?: number; config?: Record<string, unknown> } | null;
  const configured = unet?.config?.in_channels;
  return unet?.inChannels ?? (typeof configured === 'number' ? configured : 4);
}

/** The run's generator(s) as the noise source stochastic schedulers draw from (a fresh seed when none is given). */
export function noiseSource(generator: unknown): NoiseGenerator {
  if (generator !== undefined && generator !== null && !isGenerator(generator)) {
    throw new InvalidArgumentError('generator must be a Generator from @modular-diffusers/runtime (new Generator(seed)) or a list of them, one per image.');
  }
  const given = (generator ?? undefined) as Generator | Generator[] | undefined;
  return { randn: (shape) => randnTensor(shape, { generator: given }) };
}

function isGenerator(value: unknown): boolean {
  const one = (v: unknown) => v !== null && typeof v === 'object' && typeof (v as { randn?: unknown }).randn === 'function';
  return Array.isArray(value) ? value.every(one) : one(value);
}

/** A loaded component, or a clear error naming it. */
export function requireComponent<T>(components: PipelineComponents, name: string, block: string): T {
  const value = components[name] as T | null | undefined;
  if (value === null || value === undefined) {
    throw new InvalidArgumentError(
      `${block} needs the '${name}' component, which is not loaded. Call pipeline.loadComponents() (or loadComponents('${name}', { repo, subfolder })) first.`,
    );
  }
  return value;
}
