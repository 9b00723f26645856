/**
 * Loop step 2: the guided UNet call. The guider picks this step's
 * conditions; they are stacked on the batch axis so the UNet runs once
 * (batch B without guidance, 2B with CFG), and the guider combines the
 * per-condition predictions into `noise_pred`. `cross_attention_kwargs` is
 * declared as diffusers declares it; an ONNX export has its attention (and
 * any LoRA) baked in, so nothing reads it.
 */
import { TypedBlock, blockSpec, type ComponentsOf } from '@modular-diffusers/core';
import { guiderComponent, unetComponent } from '../components/component-specs.js';
import { combineGuidedPrediction, repeatForConditions, stackGuiderConditions } from './guider-batches.js';
import {
  LOOP_STEP_NOTE,
  MODEL_NAME,
  crossAttentionKwargsInput,
  guiderInputFields,
  numInferenceStepsInput,
  requireLoaded,
  requireScaledLatents,
  timestepCondInput,
  type LoopStateOf,
} from './loop-params.js';

const loopDenoiserSpec = blockSpec({
  description: `Step within the denoising loop that denoise the latents with guidance. ${LOOP_STEP_NOTE}`,
  components: { guider: guiderComponent(), unet: unetComponent() },
  inputs: {
    cross_attention_kwargs: crossAttentionKwargsInput(),
    num_inference_steps: numInferenceStepsInput(),
    timestep_cond: timestepCondInput(
      'The guidance scale embedding to use for Latent Consistency Models(LCMs). Can be generated in prepare_additional_conditioning step.',
    ),
    guider_input_fields: guiderInputFields(),
  },
});

type LoopState = LoopStateOf<typeof loopDenoiserSpec>;

export class StableDiffusionXLLoopDenoiser extends TypedBlock(loopDenoiserSpec) {
  static override modelName = MODEL_NAME;

  override async call(components: ComponentsOf<typeof loopDenoiserSpec>, bs: LoopState, i: number, t: number): Promise<[typeof components, LoopState]> {
    const guider = requireLoaded(components.guider, 'guider', this.className);
    const unet = requireLoaded(components.unet, 'unet', this.className);
    const sample = requireScaledLatents(bs, this.className);
    guider.setState(i, bs.num_inference_steps, t);
    const stacked = stackGuiderConditions(guider, bs.asDict(), sample.shape[0]!);
    const conditions = stacked.batches.length;
    for (let k = 0; k < conditions; k++) guider.prepareModels(unet);
    const prediction = await unet.predict({
      sample: repeatForConditions(sample, conditions, { owner: bs, slot: 'unet.sample' }),
      timestep: t,
      encoderHiddenStates: stacked.inputs.prompt_embeds,
      textEmbeds: stacked.inputs.text_embeds,
      timeIds: stacked.inputs.time_ids,
      imageEmbeds: stacked.inputs.image_embeds,
      timestepCond: bs.timestep_cond ? repeatForConditions(bs.timestep_cond, conditions) : null,
    });
    for (let k = 0; k < conditions; k++) guider.cleanupModels(unet);
    bs.noise_pred = combineGuidedPrediction(guider, stacked, prediction);
    return [components, bs];
  }
}
