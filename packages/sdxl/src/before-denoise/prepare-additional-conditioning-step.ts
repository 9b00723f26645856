/**
 * Text-to-image micro-conditioning: `add_time_ids` = (original size, crop
 * top-left, target size), sizes defaulting to the image size the latents
 * give; `negative_add_time_ids` uses the negative sizes when both are given,
 * else the same ids. One row per image of the final batch.
 */
import { TypedBlock, blockSpec, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { guiderComponent, unetComponent } from '../components/component-specs.js';
import { vaeScaleFactor } from '../pipeline/sdxl-pipeline-properties.js';
import { checkAddEmbedDim, pairOf, timeIdsTensor, timestepCond, type Pair } from './add-time-ids.js';
import { SIZE_INPUT_NAMES, additionalConditioningIntermediates, additionalConditioningOutputs, sizeInputs } from './additional-conditioning-params.js';
import { MODEL } from './params.js';

const prepareAdditionalConditioningSpec = blockSpec({
  description: 'Step that prepares the additional conditioning for the text-to-image generation process',
  components: { unet: unetComponent(), guider: guiderComponent() },
  inputs: { ...sizeInputs(), ...additionalConditioningIntermediates() },
  outputs: additionalConditioningOutputs(),
});

export class StableDiffusionXLPrepareAdditionalConditioningStep extends TypedBlock(prepareAdditionalConditioningSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkSizeInputs(state);
  }

  override async call(components: ComponentsOf<typeof prepareAdditionalConditioningSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const sizes = imageSize(components, bs.latents.shape);
    const original = bs.original_size != null ? pairOf(bs.original_size, 'original_size') : sizes;
    const target = bs.target_size != null ? pairOf(bs.target_size, 'target_size') : sizes;
    const projectionDim = bs.pooled_prompt_embeds.shape.at(-1)!;
    const ids = (o: Pair, crop: Pair, t: Pair) => {
      const list = [...o, ...crop, ...t];
      checkAddEmbedDim(components.unet, list.length, projectionDim, null);
      return list;
    };
    const addTimeIds = ids(original, pairOf(bs.crops_coords_top_left, 'crops_coords_top_left'), target);
    const negativeTimeIds =
      bs.negative_original_size != null && bs.negative_target_size != null
        ? ids(
            pairOf(bs.negative_original_size, 'negative_original_size'),
            pairOf(bs.negative_crops_coords_top_left, 'negative_crops_coords_top_left'),
            pairOf(bs.negative_target_size, 'negative_target_size'),
          )
        : addTimeIds;
    const rows = bs.batch_size * bs.num_images_per_prompt;
    bs.add_time_ids = timeIdsTensor(addTimeIds, rows);
    bs.negative_add_time_ids = timeIdsTensor(negativeTimeIds, rows);
    bs.timestep_cond = timestepCond(components.unet, components.guider, rows);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The pixel size the latents decode to: (h * vae scale factor, w * vae scale factor). */
export function imageSize(components: ModularPipeline, latentShape: readonly number[]): Pair {
  const factor = vaeScaleFactor(components);
  return [latentShape.at(-2)! * factor, latentShape.at(-1)! * factor];
}

export function checkSizeInputs(state: PipelineState): void {
  for (const name of SIZE_INPUT_NAMES) if (state.get(name) != null) pairOf(state.get(name), name);
}
