/**
 * Loop step 2: the guided UNet call. The guider picks this step's
 * conditions; they are stacked on the batch axis so the UNet runs once
 * (batch B without guidance, 2B with CFG), and the guider combines the
 * per-condition predictions into `noise_pred`. `cross_attention_kwargs` is
 * declared as diffusers declares it; an ONNX export has its attention (and
 * any LoRA) baked in, so nothing reads it.
 */
import { InputParam, PipelineBlock, type PipelineComponents } from '@modular-diffusers/core';
import type { Tensor } from '@modular-diffusers/runtime';
import type { Guider } from '@modular-diffusers/diffusion';
import { guiderSpec, unetSpec } from '../components/component-specs.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { combineGuidedPrediction, repeatForConditions, stackGuiderConditions } from './guider-batches.js';
import type { LoopBlockState } from './loop-before-denoiser.js';
import { LOOP_STEP_NOTE, MODEL_NAME, guiderInputFields, numInferenceStepsInput, requireComponent, timestepCondInput } from './loop-params.js';

export class StableDiffusionXLLoopDenoiser extends PipelineBlock {
  static override modelName = MODEL_NAME;

  override get description() {
    return `Step within the denoising loop that denoise the latents with guidance. ${LOOP_STEP_NOTE}`;
  }

  override get expectedComponents() {
    return [guiderSpec(), unetSpec()];
  }

  override get inputs() {
    return [new InputParam('cross_attention_kwargs')];
  }

  override get intermediatesInputs() {
    return [
      numInferenceStepsInput(),
      timestepCondInput(
        'The guidance scale embedding to use for Latent Consistency Models(LCMs). Can be generated in prepare_additional_conditioning step.',
      ),
      guiderInputFields(),
    ];
  }

  override async call(components: PipelineComponents, bs: LoopBlockState, i: number, t: number): Promise<[PipelineComponents, LoopBlockState]> {
    const guider = requireComponent<Guider>(components, 'guider', this.className);
    const unet = requireComponent<UNet2DConditionModel>(components, 'unet', this.className);
    const sample = bs.scaled_latents as Tensor;
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
      timestepCond: bs.timestep_cond ? repeatForConditions(bs.timestep_cond as Tensor, conditions) : null,
    });
    for (let k = 0; k < conditions; k++) guider.cleanupModels(unet);
    bs.noise_pred = combineGuidedPrediction(guider, stacked, prediction);
    return [components, bs];
  }
}
