/**
 * Image-to-image timesteps: the full schedule, then only its last
 * `int(num_inference_steps * strength)` steps (or the steps after
 * `denoising_start`), cut at `denoising_end`. `latent_timestep` (the first
 * kept step, one per image) is the noise level the start image gets.
 */
import { TypedBlock, blockSpec, input, output, type BlockResult, type ComponentsOf, type ModularPipeline, type PipelineState } from '@modular-diffusers/core';
import { applyDenoisingEnd, getImg2ImgTimesteps, retrieveTimesteps } from '@modular-diffusers/diffusion';
import { Tensor } from '@modular-diffusers/runtime';
import { schedulerComponent } from '../components/component-specs.js';
import { SdxlInputError, showInputValue } from '../errors.js';
import { MODEL, batchSizeInput, numImagesPerPromptInput, scheduleInputs, timestepOutputs } from './params.js';
import { checkScheduleInputs, requireScheduler } from './set-timesteps-step.js';
import { numberList, timestepsTensor } from './timestep-tensor.js';

const img2imgSetTimestepsSpec = blockSpec({
  description:
    'Step that sets the timesteps for the scheduler and determines the initial noise level (latent_timestep) for image-to-image/inpainting generation.\n' +
    'The latent_timestep is calculated from the `strength` parameter - higher strength means starting from a noisier version of the input image.',
  components: { scheduler: schedulerComponent() },
  inputs: {
    ...scheduleInputs(),
    strength: input<number>({ default: 0.3 }),
    denoising_start: input<number | null>(),
    num_images_per_prompt: numImagesPerPromptInput(),
    batch_size: batchSizeInput(),
  },
  outputs: {
    ...timestepOutputs(),
    latent_timestep: output<Tensor<'float32'>>({
      typeHint: 'Tensor',
      description: 'The timestep that represents the initial noise level for image-to-image generation',
    }),
  },
});

export class StableDiffusionXLImg2ImgSetTimestepsStep extends TypedBlock(img2imgSetTimestepsSpec) {
  static override modelName = MODEL;

  override validateInputs(_components: ModularPipeline, state: PipelineState): void {
    checkScheduleInputs(state);
    // Under a conditional block whose branches disagree on strength the state holds none yet: this
    // block then runs with its own default (diffusers' defaults_by_block), so check that one.
    const strength = state.get('strength') ?? this.inputs.find((p) => p.name === 'strength')?.default;
    checkStrength(strength);
    const steps = state.get('num_inference_steps');
    const counted = state.get('timesteps') == null && state.get('sigmas') == null && state.get('denoising_start') == null;
    // Only a run that has an image to transform takes this branch: in an auto pipeline a
    // text-to-image run with few steps must not trip over img2img's default strength.
    const transformsAnImage = state.get('image') != null || state.get('image_latents') != null;
    if (transformsAnImage && counted && typeof strength === 'number' && typeof steps === 'number' && Math.trunc(steps * strength) < 1) {
      throw new SdxlInputError(
        `\`strength\` ${strength} with ${steps} inference steps leaves no denoising step (it runs int(steps * strength) = 0); raise strength or num_inference_steps.`,
      );
    }
  }

  override async call(components: ComponentsOf<typeof img2imgSetTimestepsSpec>, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    checkStrength(bs.strength);
    const scheduler = requireScheduler(components);
    const full = retrieveTimesteps(scheduler, { numInferenceSteps: bs.num_inference_steps, timesteps: numberList(bs.timesteps), sigmas: numberList(bs.sigmas) });
    const img2img = getImg2ImgTimesteps(scheduler, full.numInferenceSteps, bs.strength, { denoisingStart: bs.denoising_start });
    const rows = bs.batch_size * bs.num_images_per_prompt;
    bs.latent_timestep = new Tensor('float32', new Float32Array(rows).fill(img2img.latentTimestep), [rows]);
    const selection = applyDenoisingEnd(scheduler, img2img, bs.denoising_end);
    bs.timesteps = timestepsTensor(selection.timesteps);
    bs.num_inference_steps = selection.numInferenceSteps;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** `strength` must lie in (0, 1]: 0 would leave nothing to denoise. */
export function checkStrength(strength: unknown): void {
  if (strength == null) return;
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) {
    throw new SdxlInputError(
      `\`strength\` must be in (0, 1] (how much of the schedule to run on the start image: 1 ignores the image, small values keep it), got ${showInputValue(strength)}.`,
    );
  }
}
