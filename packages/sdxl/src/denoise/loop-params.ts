/**
 * Declarations shared by the SDXL denoise-loop blocks, worded as diffusers'
 * (and the developer guide's) blocks word them, plus the small readers the
 * loop steps share.
 */
import {
  InvalidArgumentError,
  input,
  kwargsInput,
  type BlockSpec,
  type BlockState,
  type StateOf,
} from '@modular-diffusers/core';
import { Tensor, randnTensor, type Generator } from '@modular-diffusers/runtime';
import type { NoiseGenerator } from '@modular-diffusers/diffusion';
import { SdxlInputError } from '../errors.js';


/** The loop-step note every loop sub-block's description ends with. */
export const LOOP_STEP_NOTE =
  'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object (e.g. `StableDiffusionXLDenoiseLoopWrapper`)';

/** What the loop's sub-blocks hand each other in the one block state they share. */
export interface LoopHandoff {
  /** The loop's current latents (the before-denoiser declares them; the after-denoiser replaces them). */
  latents?: Tensor;
  /** The before-denoiser's latents, scaled (and for an inpainting UNet extended) for the denoiser. */
  scaled_latents?: Tensor;
  /** The denoiser's guided prediction, for the after-denoiser's scheduler step. */
  noise_pred?: Tensor;
}

/** The loop's block state as a sub-block declared by `S` sees it. */
export type LoopStateOf<S extends BlockSpec> = BlockState & StateOf<S> & LoopHandoff;

/** A schedule as the set_timesteps step outputs it (or a caller passes it); timestepList reads them all. */
export type TimestepSchedule = Tensor | Float32Array | Float64Array | Int32Array | readonly number[];

// The declarations the loop shares with the before-denoise steps, declared once there.
export { MODEL as MODEL_NAME, generatorInput, latentsInput } from '../before-denoise/params.js';
export type { GeneratorInput } from '../before-denoise/noise.js';

export const numInferenceStepsInput = () =>
  input<number>({
    required: true,
    typeHint: 'int',
    description: 'The number of inference steps to use for the denoising process. Can be generated in set_timesteps step.',
  });

export const timestepsInput = () =>
  input<TimestepSchedule>({
    required: true,
    typeHint: 'Tensor',
    description: 'The timesteps to use for the denoising process. Can be generated in set_timesteps step.',
  });

export const maskInput = () =>
  input<Tensor<'float32'> | null>({
    typeHint: 'Optional[Tensor]',
    description: 'The mask to use for the denoising process, for inpainting task only. Can be generated in vae_encode or prepare_latent step.',
  });

export const etaInput = () => input<number>({ default: 0.0 });
/** Declared as diffusers declares it; an ONNX export has its attention baked in, so nothing reads it. */
export const crossAttentionKwargsInput = () => input<Record<string, unknown> | null>();

/** Keyed `guider_input_fields`: the kwargs type the conditioning steps tag their outputs with. */
export const guiderInputFields = () =>
  kwargsInput({
    description:
      'All conditional model inputs that need to be prepared with guider. It should contain prompt_embeds/negative_prompt_embeds, ' +
      'add_time_ids/negative_add_time_ids, pooled_prompt_embeds/negative_pooled_prompt_embeds, and ip_adapter_embeds/negative_ip_adapter_embeds (optional).',
  });

export const timestepCondInput = (description: string) => input<Tensor | null>({ typeHint: 'Optional[Tensor]', description });

/** The schedule as plain numbers, from a scheduler's Float32Array, a number list or a 1-D Tensor. */
export function timestepList(value: unknown): number[] {
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) return Array.from(value);
  if (value instanceof Tensor && value.rank <= 1 && value.dtype !== 'bool') return Array.from(value.data as ArrayLike<number | bigint>, Number);
  if (Array.isArray(value) && value.every((v): v is number => typeof v === 'number')) return value;
  throw new InvalidArgumentError(
    `timesteps must be a list of numbers, a Float32Array or a 1-D Tensor (what the set_timesteps step outputs), got ${value === null ? 'null' : typeof value}.`,
  );
}

/** What unetInChannels reads: the SDXL pipeline's `numChannelsUnet`, else the UNet's own. */
export interface UNetChannelsSource {
  readonly unet?: { readonly inChannels?: number; readonly config?: Readonly<Record<string, unknown>> } | null;
}

/** Latent channels the UNet takes (4, or 9 for an inpainting UNet). */
export function unetInChannels(components: UNetChannelsSource): number {
  const fromPipeline = 'numChannelsUnet' in components ? components.numChannelsUnet : undefined;
  if (typeof fromPipeline === 'number') return fromPipeline;
  const unet = components.unet;
  const configured = unet?.config?.in_channels;
  return unet?.inChannels ?? (typeof configured === 'number' ? configured : 4);
}

/** The run's generator(s) as the noise source stochastic schedulers draw from (a fresh seed when none is given). */
export function noiseSource(generator: unknown): NoiseGenerator {
  if (generator !== undefined && generator !== null && !isGenerator(generator)) {
    throw new InvalidArgumentError('generator must be a Generator from @modular-diffusers/runtime (new Generator(seed)) or a list of them, one per image.');
  }
  const given = isGenerator(generator) ? generator : undefined;
  return { randn: (shape) => randnTensor(shape, { generator: given }) };
}

function isGenerator(value: unknown): value is Generator | Generator[] {
  const one = (v: unknown) => v !== null && typeof v === 'object' && 'randn' in v && typeof v.randn === 'function';
  return Array.isArray(value) ? value.every(one) : one(value);
}

/**
 * A declared component that may still be unloaded (`UNet2DConditionModel | null`),
 * or an error saying which block needs it and how to load it.
 */
export function requireLoaded<C>(value: C | null | undefined, name: string, block: string): C {
  if (value === null || value === undefined) {
    throw new SdxlInputError(
      `${block} needs the '${name}' component, which is not loaded. Call pipeline.loadComponents() (or loadComponents('${name}', { repo, subfolder })) first.`,
    );
  }
  return value;
}

/** The before-denoiser's output, which the denoisers run the UNet on. */
export function requireScaledLatents(bs: LoopHandoff, block: string): Tensor {
  if (!bs.scaled_latents) {
    throw new SdxlInputError(`${block} needs scaled_latents from the loop's before_denoiser step; put a before-denoiser first in the loop body.`);
  }
  return bs.scaled_latents;
}
