/**
 * What the two ControlNet input steps share: their declarations (as the
 * guide's blocks declare them), the checks on the caller's values, the
 * control-image preparation and diffusers' `controlnet_keep` schedule.
 */
import { component, componentSpecOf, input, output, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { isRgbImage, isTensor, repeatInterleave, type RgbImage, type Tensor, type VaeImageInput, type VaeImageProcessor } from '@modular-diffusers/runtime';
import type { TimestepSchedule } from '../denoise/loop-params.js';
import { SdxlInputError } from '../errors.js';
import { vaeScaleFactor } from '../pipeline/sdxl-pipeline-properties.js';

/** A number, or (as diffusers aligns them per ControlNet) a list of one. */
export type PerControlNet = number | readonly number[];

/** Created from its config, so it exists from the start. */
export const controlImageProcessorComponent = () =>
  component<VaeImageProcessor>('VaeImageProcessor', {
    config: { do_convert_rgb: true, do_normalize: false },
    defaultCreationMethod: 'fromConfig',
  });

export const controlImageProcessorSpec = () => componentSpecOf('control_image_processor', controlImageProcessorComponent());

/** Checked by checkControlNetInputs before the step runs. */
export const controlImageInput = () => input<VaeImageInput>({ required: true });

export const controlNetInputs = () => ({
  control_guidance_start: input<PerControlNet>({ default: 0.0 }),
  control_guidance_end: input<PerControlNet>({ default: 1.0 }),
  controlnet_conditioning_scale: input<PerControlNet>({ default: 1.0 }),
  guess_mode: input<boolean>({ default: false }),
  num_images_per_prompt: input<number>({ default: 1 }),
});

export const controlNetIntermediates = () => ({
  latents: input<Tensor>({
    required: true,
    typeHint: 'Tensor',
    description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
  }),
  batch_size: input<number>({
    required: true,
    typeHint: 'int',
    description: 'Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt. Can be generated in input step.',
  }),
  timesteps: input<TimestepSchedule>({
    required: true,
    typeHint: 'Tensor',
    description: 'The timesteps to use for the denoising process. Can be generated in set_timesteps step.',
  }),
  // Checked by prepareControlImage (four integers) when it is set.
  crops_coords: input<readonly number[] | null>({
    typeHint: 'Optional[Tuple[int]]',
    description:
      'The crop coordinates to use for preprocess/postprocess the image and mask, for inpainting task only. Can be generated in vae_encode step.',
  }),
});

/** `controlnet_cond` is one tensor, or one per control mode (ControlNet-Union). */
export const controlNetOutputs = () => ({
  controlnet_cond: output<Tensor<'float32'> | Tensor<'float32'>[]>({ typeHint: 'Tensor', description: 'The processed control image' }),
  control_guidance_start: output<number[]>({ typeHint: 'List[float]', description: 'The controlnet guidance start values' }),
  control_guidance_end: output<number[]>({ typeHint: 'List[float]', description: 'The controlnet guidance end values' }),
  conditioning_scale: output<PerControlNet>({ typeHint: 'List[float]', description: 'The controlnet conditioning scale values' }),
  guess_mode: output<boolean>({ typeHint: 'bool', description: 'Whether guess mode is used' }),
  controlnet_keep: output<number[]>({ typeHint: 'List[float]', description: 'The controlnet keep values' }),
});

/** The control images one by one: ControlNet-Union takes one per control mode. */
export function controlImageList(image: VaeImageInput): (RgbImage | Tensor)[] {
  return isImageList(image) ? [...image] : [image];
}

function isImageList(image: VaeImageInput): image is readonly RgbImage[] | readonly Tensor[] {
  return Array.isArray(image);
}

/** The caller's ControlNet values, checked before any model runs (values not given are skipped). */
export function checkControlNetInputs(state: PipelineState): void {
  const image = state.get('control_image');
  if (image != null) {
    const list = Array.isArray(image) ? image : [image];
    if (list.length === 0 || !list.every((i) => isRgbImage(i) || isTensor(i))) {
      throw new SdxlInputError(
        '`control_image` must be an RgbImage (load files with loadImage()), a float32 Tensor [B, 3, H, W] in [0, 1], or a list of them.',
      );
    }
  }
  const start = firstNumber(state.get('control_guidance_start'), 'control_guidance_start');
  const end = firstNumber(state.get('control_guidance_end'), 'control_guidance_end');
  for (const [name, value] of [['control_guidance_start', start], ['control_guidance_end', end]] as const) {
    if (value !== undefined && !(value >= 0 && value <= 1)) {
      throw new SdxlInputError(`\`${name}\` is a fraction of the schedule and must lie in [0, 1], got ${value}.`);
    }
  }
  if (start !== undefined && end !== undefined && start >= end) {
    throw new SdxlInputError(`\`control_guidance_start\` (${start}) must be smaller than \`control_guidance_end\` (${end}).`);
  }
  const scale = firstNumber(state.get('controlnet_conditioning_scale'), 'controlnet_conditioning_scale');
  if (scale !== undefined && !Number.isFinite(scale)) {
    throw new SdxlInputError(`\`controlnet_conditioning_scale\` must be a finite number, got ${scale}.`);
  }
}

function firstNumber(value: unknown, name: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'number' || (Array.isArray(value) && value.length !== 1)) {
    throw new SdxlInputError(`\`${name}\` must be a number (one ControlNet), got ${JSON.stringify(value)}.`);
  }
  return v;
}

/** `control_guidance_start/end` as one-element lists, as diffusers aligns them for a single ControlNet. */
export function guidanceWindow(start: PerControlNet, end: PerControlNet): { start: number[]; end: number[] } {
  const list = (v: PerControlNet) => (typeof v === 'number' ? [v] : [...v]);
  return { start: list(start), end: list(end) };
}

/**
 * diffusers' `controlnet_keep`: for step i of n, 1 while the step lies
 * inside [start, end] of the schedule (i / n >= start and (i + 1) / n <= end), else 0.
 */
export function controlnetKeep(steps: number, start: number, end: number): number[] {
  return Array.from({ length: steps }, (_, i) => 1 - Number(i / steps < start || (i + 1) / steps > end));
}

/** The pixel size matching the latents: latent size x VAE scale factor. */
export function controlImageSize(components: ModularPipeline, latents: Tensor): { height: number; width: number } {
  const factor = vaeScaleFactor(components);
  return { height: latents.shape[2]! * factor, width: latents.shape[3]! * factor };
}

/**
 * The control image at the latents' pixel size in [0, 1], one row per
 * generated image: a single image is repeated to the whole batch, a batch
 * with one image per prompt is repeated `num_images_per_prompt` times.
 * With `crops_coords` (inpainting with padding_mask_crop) images are cropped
 * to that box and resized with resize_mode 'fill', as diffusers'
 * `prepare_control_image` does (images only, as there).
 */
export async function prepareControlImage(
  processor: VaeImageProcessor,
  image: VaeImageInput,
  size: { height: number; width: number },
  batch: { batchSize: number; numImagesPerPrompt: number },
  cropsCoords: unknown,
): Promise<Tensor<'float32'>> {
  const tensor = cropsCoords
    ? await processor.preprocess(image, { ...size, cropsCoords: checkedCropsCoords(cropsCoords), resizeMode: 'fill' })
    : await processor.preprocess(image, size);
  const rows = tensor.shape[0]!;
  const total = batch.batchSize * batch.numImagesPerPrompt;
  if (rows !== 1 && rows !== batch.batchSize) {
    throw new SdxlInputError(
      `${rows} control images were given for ${batch.batchSize} prompt(s); pass one control image, or one per prompt.`,
    );
  }
  return repeatInterleave(tensor, rows === 1 ? total : batch.numImagesPerPrompt, 0);
}

function checkedCropsCoords(coords: unknown): [number, number, number, number] {
  if (!Array.isArray(coords) || coords.length !== 4 || !coords.every((c) => Number.isInteger(c))) {
    throw new SdxlInputError(`crops_coords must be [x1, y1, x2, y2] integers, got ${JSON.stringify(coords)}.`);
  }
  return coords as [number, number, number, number];
}
