/**
 * The denoise loop: one `loopStep` (before_denoiser -> denoiser ->
 * after_denoiser) per entry of `timesteps`, with a progress tick and an
 * abort check per step. It runs over exactly the timesteps it is given, so
 * an img2img schedule truncated by `strength` runs only its last steps.
 */
import { LoopSequentialPipelineBlocks, type BlockResult, type PipelineComponents, type PipelineState } from '@modular-diffusers/core';
import type { Guider } from '@modular-diffusers/diffusion';
import { guiderSpec, schedulerSpec, unetSpec } from '../components/component-specs.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { MODEL_NAME, numInferenceStepsInput, requireComponent, timestepList, timestepsInput } from './loop-params.js';

export class StableDiffusionXLDenoiseLoopWrapper extends LoopSequentialPipelineBlocks {
  static override modelName = MODEL_NAME;

  override get description() {
    return 'Pipeline block that iteratively denoise the latents over `timesteps`. The specific steps with each iteration can be customized with `blocks` attributes';
  }

  override get loopExpectedComponents() {
    return [guiderSpec(), schedulerSpec(), unetSpec()];
  }

  override get loopIntermediatesInputs() {
    return [timestepsInput(), numInferenceStepsInput()];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const guider = requireComponent<Guider>(components, 'guider', this.className);
    const unet = requireComponent<UNet2DConditionModel>(components, 'unet', this.className);
    // A UNet with a guidance embedding (LCM) has the guidance built in: no extra condition batches.
    const timeCondProjDim = unet.timeCondProjDim ?? (unet.config?.time_cond_proj_dim as number | null | undefined) ?? null;
    if (timeCondProjDim !== null) guider.disable();
    else guider.enable();

    const timesteps = timestepList(bs.timesteps);
    const progress = this.progressBar(bs, bs.num_inference_steps ?? timesteps.length);
    for (let i = 0; i < timesteps.length; i++) {
      [components] = await this.loopStep(components, bs, i, timesteps[i]);
      progress.update();
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}
