/**
 * The denoise loop: one `loopStep` (before_denoiser -> denoiser ->
 * after_denoiser) per entry of `timesteps`, with a progress tick and an
 * abort check per step. It runs over exactly the timesteps it is given, so
 * an img2img schedule truncated by `strength` runs only its last steps.
 */
import { InputParam, LoopSequentialPipelineBlocks, blockSpec, componentSpecOf, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState, type StateOf } from '@modular-diffusers/core';
import { guiderComponent, schedulerComponent, unetComponent } from '../components/component-specs.js';
import { MODEL_NAME, numInferenceStepsInput, requireLoaded, timestepList, timestepsInput } from './loop-params.js';

// A loop is composite (its declarations merge its body's), so it is not a TypedBlock; this spec
// types what the loop itself reads, and its loop-level declarations are built from it.
const loopSpec = blockSpec({
  components: { guider: guiderComponent(), scheduler: schedulerComponent(), unet: unetComponent() },
  inputs: { timesteps: timestepsInput(), num_inference_steps: numInferenceStepsInput() },
});

export class StableDiffusionXLDenoiseLoopWrapper extends LoopSequentialPipelineBlocks {
  static override modelName = MODEL_NAME;

  override get description() {
    return 'Pipeline block that iteratively denoise the latents over `timesteps`. The specific steps with each iteration can be customized with `blocks` attributes';
  }

  override get loopExpectedComponents() {
    return Object.entries(loopSpec.components).map(([name, decl]) => componentSpecOf(name, decl));
  }

  override get loopIntermediatesInputs() {
    return Object.entries(loopSpec.inputs).map(([name, decl]) => new InputParam(name, decl.fields));
  }

  override async call(components: ComponentsOf<typeof loopSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<StateOf<typeof loopSpec>>(state);
    const guider = requireLoaded(components.guider, 'guider', this.className);
    const unet = requireLoaded(components.unet, 'unet', this.className);
    // A UNet with a guidance embedding (LCM) has the guidance built in: no extra condition batches.
    const configured = unet.config?.time_cond_proj_dim;
    const timeCondProjDim = unet.timeCondProjDim ?? (typeof configured === 'number' ? configured : null);
    if (timeCondProjDim !== null) guider.disable();
    else guider.enable();

    const timesteps = timestepList(bs.timesteps);
    const progress = this.progressBar(bs, bs.num_inference_steps ?? timesteps.length);
    let current: ModularPipeline = components;
    for (let i = 0; i < timesteps.length; i++) {
      [current] = await this.loopStep(current, bs, i, timesteps[i]);
      progress.update();
    }
    this.setBlockState(state, bs);
    return [current, state];
  }
}
