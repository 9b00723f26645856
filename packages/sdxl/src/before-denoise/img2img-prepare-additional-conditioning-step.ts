/**
 * Image-to-image/inpainting micro-conditioning. With the pipeline config
 * `requires_aesthetics_score` (the SDXL refiner) the ids end in the
 * aesthetic score instead of the target size: (original size, crop,
 * aesthetic_score), negatives with `negative_aesthetic_score`.
 */
import { ConfigSpec, TypedBlock, blockSpec, input, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { guiderComponent, unetComponent } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { checkAddEmbedDim, pairOf, timeIdsTensor, timestepCond } from './add-time-ids.js';
import { additionalConditioningIntermediates, additionalConditioningOutputs, sizeInputs } from './additional-conditioning-params.js';
import { MODEL } from './params.js';
import { checkSizeInputs, imageSize } from './prepare-additional-conditioning-step.js';

const img2imgPrepareAdditionalConditioningSpec = blockSpec({
  description: 'Step that prepares the additional conditioning for the image-to-image/inpainting generation process',
  components: { unet: unetComponent(), guider: guiderComponent() },
  configs: [new ConfigSpec('requires_aesthetics_score', false)],
  inputs: {
    ...sizeInputs(),
    aesthetic_score: input<number>({ default: 6.0 }),
    negative_aesthetic_score: input<number>({ default: 2.0 }),
    ...additionalConditioningIntermediates(),
  },
  outputs: additionalConditioningOutputs(),
});

export class StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep extends TypedBlock(img2imgPrepareAdditionalConditioningSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkSizeInputs(state);
    for (const name of ['aesthetic_score', 'negative_aesthetic_score']) {
      const value = state.get(name);
      if (value != null && !(typeof value === 'number' && Number.isFinite(value))) {
        throw new SdxlInputError(`\`${name}\` must be a number (the refiner was trained on scores around 2-7), got ${showInputValue(value)}.`);
      }
    }
  }

  override async call(components: ComponentsOf<typeof img2imgPrepareAdditionalConditioningSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const sizes = imageSize(components, bs.latents.shape);
    const original = bs.original_size != null ? pairOf(bs.original_size, 'original_size') : sizes;
    const target = bs.target_size != null ? pairOf(bs.target_size, 'target_size') : sizes;
    const negativeOriginal = bs.negative_original_size != null ? pairOf(bs.negative_original_size, 'negative_original_size') : original;
    const negativeTarget = bs.negative_target_size != null ? pairOf(bs.negative_target_size, 'negative_target_size') : target;
    const crop = pairOf(bs.crops_coords_top_left, 'crops_coords_top_left');
    let addTimeIds: number[];
    let negativeTimeIds: number[];
    if (components.config.requires_aesthetics_score) {
      addTimeIds = [...original, ...crop, bs.aesthetic_score];
      negativeTimeIds = [...negativeOriginal, ...pairOf(bs.negative_crops_coords_top_left, 'negative_crops_coords_top_left'), bs.negative_aesthetic_score];
    } else {
      // As diffusers: the negative ids take the positive crop, not negative_crops_coords_top_left.
      addTimeIds = [...original, ...crop, ...target];
      negativeTimeIds = [...negativeOriginal, ...crop, ...negativeTarget];
    }
    checkAddEmbedDim(components.unet, addTimeIds.length, bs.pooled_prompt_embeds.shape.at(-1)!, { score: bs.aesthetic_score, target });
    const rows = bs.batch_size * bs.num_images_per_prompt;
    bs.add_time_ids = timeIdsTensor(addTimeIds, rows);
    bs.negative_add_time_ids = timeIdsTensor(negativeTimeIds, rows);
    bs.timestep_cond = timestepCond(components.unet, components.guider, rows);
    this.setBlockState(state, bs);
    return [components, state];
  }
}
