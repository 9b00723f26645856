/**
 * The guide's `SDXLDiffDiffPrepareLatentsStep`: img2img's prepare-latents
 * step changed to (1) turn the change map into one mask per denoising step
 * and (2) noise the image latents to every timestep, for the loop to freeze
 * regions with.
 */
import {
  TypedBlock,
  blockSpec,
  component,
  input,
  output,
  type BlockResult,
  type ComponentsOf,
  type PipelineComponents,
  type PipelineState,
} from '@modular-diffusers/core';
import { Tensor, cast, randnTensor, repeatBatch, select, type Generator } from '@modular-diffusers/runtime/tensor';
import type { Scheduler } from '@modular-diffusers/diffusion';
import { timestepList } from '@modular-diffusers/sdxl/blocks';
import { changeMapMasks } from './change-map-masks.js';
import { DiffDiffInputError } from './errors.js';
import { noisedOriginalLatents } from './noised-original-latents.js';
import { MODEL_NAME, diffdiffMapInput, diffdiffMasksOutput, maskProcessorComponent, originalLatentsOutput } from './params.js';

export type { ChangeMapProcessor } from './params.js';

const prepareLatentsSpec = blockSpec({
  description: 'Step that prepares the latents for the differential diffusion generation process',
  components: {
    vae: component<unknown>('AutoencoderKL'),
    scheduler: component<Scheduler | null>('EulerDiscreteScheduler'),
    mask_processor: maskProcessorComponent(),
  },
  inputs: {
    latents: input<Tensor>(),
    num_images_per_prompt: input<number>({ default: 1 }),
    denoising_start: input<number | null>(),
    diffdiff_map: diffdiffMapInput(),
    generator: input<Generator | Generator[] | null>(),
    timesteps: input<unknown>({ typeHint: 'Tensor', description: 'The timesteps to use for sampling. Can be generated in set_timesteps step.' }),
    num_inference_steps: input<number | null>({
      typeHint: 'int',
      description: 'The number of inference steps to use for the denoising process. Can be generated in set_timesteps step.',
    }),
    image_latents: input<Tensor>({
      required: true,
      typeHint: 'Tensor',
      description: 'The latents representing the reference image for image-to-image/inpainting generation. Can be generated in vae_encode step.',
    }),
    batch_size: input<number>({
      required: true,
      typeHint: 'int',
      description: 'Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt. Can be generated in input step.',
    }),
    dtype: input<'float32' | 'float16'>({ required: true, typeHint: 'dtype', description: 'The dtype of the model inputs' }),
  },
  outputs: {
    latents: output<Tensor>({ typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' }),
    original_latents: originalLatentsOutput(),
    diffdiff_masks: diffdiffMasksOutput(),
  },
});

export class SDXLDiffDiffPrepareLatentsStep extends TypedBlock(prepareLatentsSpec) {
  static override modelName = MODEL_NAME;

  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    const map = state.get('diffdiff_map');
    if (map != null) checkChangeMap(map);
    const latents = state.get('latents');
    if (latents != null && !(latents instanceof Tensor && latents.rank === 4)) {
      throw new DiffDiffInputError('`latents` must be a [batch, 4, height / 8, width / 8] Tensor (or left out to start from the noised image).');
    }
  }

  override async call(components: ComponentsOf<typeof prepareLatentsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const scheduler = components.scheduler;
    if (!scheduler) throw new DiffDiffInputError('No scheduler is loaded; run pipeline.loadComponents() or set one with updateComponents({ scheduler }).');
    const timesteps = timestepList(bs.timesteps);
    const steps = bs.num_inference_steps ?? timesteps.length;
    if (steps < timesteps.length) {
      throw new DiffDiffInputError(
        `num_inference_steps is ${steps} but the schedule has ${timesteps.length} timesteps; each timestep needs its own diff-diff mask. ` +
          'Let the set_timesteps step produce both.',
      );
    }

    const imageLatents = cast(bs.image_latents, 'float32');
    if (imageLatents.rank !== 4) throw new DiffDiffInputError('`image_latents` must be [batch, 4, height / 8, width / 8] latents from the VAE encoder step.');
    const initLatents = tileToBatch(imageLatents, bs.batch_size * bs.num_images_per_prompt);
    const noise = cast(randnTensor(initLatents.shape, { generator: bs.generator ?? undefined, dtype: bs.dtype }), 'float32');
    const originalLatents = noisedOriginalLatents(scheduler, initLatents, noise, timesteps);
    bs.original_latents = originalLatents;

    if (bs.latents != null) bs.latents = cast(bs.latents, 'float32');
    else bs.latents = bs.denoising_start == null ? select(originalLatents, 0).clone() : initLatents;

    const [height, width] = imageLatents.shape.slice(2) as [number, number];
    const processor = components.mask_processor;
    if (!processor) throw new DiffDiffInputError('No mask_processor is loaded; run pipeline.loadComponents() (it is created from its config).');
    const map = cast(await processor.preprocess(bs.diffdiff_map, { height, width }), 'float32');
    if (map.shape[map.rank - 2] !== height || map.shape[map.rank - 1] !== width) {
      throw new DiffDiffInputError(
        `The change map came out ${map.shape[map.rank - 2]}x${map.shape[map.rank - 1]} but the latents are ${height}x${width}: mask_processor rounds ` +
          'sizes down to its vae_scale_factor. Use an image whose sides are multiples of 64, or update mask_processor with vae_scale_factor 1.',
      );
    }
    bs.diffdiff_masks = changeMapMasks(map, steps, bs.denoising_start ?? null);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** An RgbImage-shaped object, a float32 Tensor, or a list holding one of them. */
function checkChangeMap(map: unknown): void {
  const items = Array.isArray(map) ? map : [map];
  if (items.length !== 1) {
    throw new DiffDiffInputError(`\`diffdiff_map\` must be one change map for the whole batch, got a list of ${items.length}.`);
  }
  const item = items[0] as { width?: unknown; height?: unknown; data?: unknown } | null;
  const isImage = item !== null && typeof item === 'object' && Number.isInteger(item.width) && Number.isInteger(item.height) && item.data instanceof Uint8Array;
  if (!isImage && !(item instanceof Tensor && item.dtype === 'float32')) {
    throw new DiffDiffInputError(
      '`diffdiff_map` must be a grayscale or RGB image (load one with loadImage(path)) or a float32 Tensor in [0, 1]; ' +
        'white keeps the original at every step, black lets the prompt change it from the first step.',
    );
  }
}


/** One image's latents repeated for every image of the batch ([a, b] -> [a, b, a, b]), as diffusers expands them. */
function tileToBatch(latents: Tensor<'float32'>, batch: number): Tensor<'float32'> {
  const rows = latents.shape[0]!;
  if (rows >= batch) return latents;
  if (batch % rows !== 0) {
    throw new DiffDiffInputError(`Cannot duplicate ${rows} image(s) to the batch of ${batch} (prompts x num_images_per_prompt); pass one image or one per final image.`);
  }
  return repeatBatch(latents, batch / rows);
}
