import { LoopSequentialPipelineBlocks } from '../blocks/loop-sequential-pipeline-blocks.js';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { BlockState } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { guiderSpec } from './sdxl-encoders.js';

// Toy versions of diffusers' SDXL denoise loop and its loop steps. Loop steps
// share the loop's BlockState and are called as call(components, blockState, i, t).

const MODEL = 'stable-diffusion-xl';
type LoopResult = Promise<[PipelineComponents, BlockState & Record<string, any>]>;

const loopNote =
  'This block should be used to compose the `blocks` attribute of a `LoopSequentialPipelineBlocks` object (e.g. `StableDiffusionXLDenoiseLoopWrapper`)';

export const schedulerSpec = () => new ComponentSpec('scheduler', 'EulerDiscreteScheduler');
export const unetSpec = () => new ComponentSpec('unet', 'UNet2DConditionModel');

export const loopLatentsInput = () =>
  new InputParam('latents', {
    required: true,
    typeHint: 'Tensor',
    description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
  });

const numInferenceStepsInput = () =>
  new InputParam('num_inference_steps', {
    required: true,
    typeHint: 'int',
    description: 'The number of inference steps to use for the denoising process. Can be generated in set_timesteps step.',
  });

const guiderInputFields = () =>
  new InputParam({
    kwargsType: 'guider_input_fields',
    description:
      'All conditional model inputs that need to be prepared with guider. It should contain prompt_embeds/negative_prompt_embeds, ' +
      'add_time_ids/negative_add_time_ids, pooled_prompt_embeds/negative_pooled_prompt_embeds, and ip_adapter_embeds/negative_ip_adapter_embeds (optional).',
  });

export class StableDiffusionXLLoopBeforeDenoiser extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return `step within the denoising loop that prepare the latent input for the denoiser. ${loopNote}`;
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get intermediatesInputs() {
    return [loopLatentsInput()];
  }

  override async call(components: PipelineComponents, bs: BlockState & Record<string, any>, _i: number, t: number): LoopResult {
    bs.scaled_latents = components.scheduler.scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}

/** The conditioning a toy UNet sees: the text embedding plus the sum of IP-adapter embeddings. */
function conditioning(fields: Record<string, any>, negative: boolean): number {
  const text = (negative ? fields.negative_prompt_embeds : fields.prompt_embeds) ?? 0;
  const ip: number[] = (negative ? fields.negative_ip_adapter_embeds : fields.ip_adapter_embeds) ?? [];
  return text + ip.reduce((a, b) => a + b, 0);
}

export class StableDiffusionXLLoopDenoiser extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return `Step within the denoising loop that denoise the latents with guidance. ${loopNote}`;
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
      new InputParam('timestep_cond', {
        typeHint: 'Optional[Tensor]',
        description:
          'The guidance scale embedding to use for Latent Consistency Models(LCMs). Can be generated in prepare_additional_conditioning step.',
      }),
      guiderInputFields(),
    ];
  }

  override async call(components: PipelineComponents, bs: BlockState & Record<string, any>, _i: number, t: number): LoopResult {
    const fields = bs.guider_input_fields;
    const cond = components.unet.predict(bs.scaled_latents, t, conditioning(fields, false));
    const uncond = components.unet.predict(bs.scaled_latents, t, conditioning(fields, true));
    bs.noise_pred = components.guider.combine(cond, uncond);
    return [components, bs];
  }
}

export class StableDiffusionXLControlNetLoopDenoiser extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return `step within the denoising loop that denoise the latents with guidance (with controlnet). ${loopNote}`;
  }

  override get expectedComponents() {
    return [guiderSpec(), unetSpec(), new ComponentSpec('controlnet', 'ControlNetModel')];
  }

  override get inputs() {
    return [new InputParam('cross_attention_kwargs')];
  }

  override get intermediatesInputs() {
    const fromControlnetInput = (name: string, typeHint: string, required: boolean, what: string) =>
      new InputParam(name, {
        required,
        typeHint,
        description: `The ${what} to use for the denoising process. Can be generated in prepare_controlnet_inputs step.`,
      });
    return [
      fromControlnetInput('controlnet_cond', 'Tensor', true, 'control image'),
      fromControlnetInput('conditioning_scale', 'float', false, 'controlnet conditioning scale value'),
      fromControlnetInput('guess_mode', 'bool', true, 'guess mode value'),
      fromControlnetInput('controlnet_keep', 'List[float]', true, 'controlnet keep values'),
      new InputParam('timestep_cond', {
        typeHint: 'Optional[Tensor]',
        description:
          'The guidance scale embedding to use for Latent Consistency Models(LCMs), can be generated by prepare_additional_conditioning step',
      }),
      numInferenceStepsInput(),
      guiderInputFields(),
      new InputParam({
        kwargsType: 'controlnet_kwargs',
        description: 'additional kwargs for controlnet (e.g. control_type_idx and control_type from the controlnet union input step )',
      }),
    ];
  }

  /** The UNet gets the ControlNet residual `controlnet_cond * scale * keep[i]` added to its prediction. */
  override async call(components: PipelineComponents, bs: BlockState & Record<string, any>, i: number, t: number): LoopResult {
    const fields = bs.guider_input_fields;
    const residual = components.controlnet.residual(bs.controlnet_cond, (bs.conditioning_scale ?? 1) * bs.controlnet_keep[i]);
    const cond = components.unet.predict(bs.scaled_latents, t, conditioning(fields, false), residual);
    const uncond = components.unet.predict(bs.scaled_latents, t, conditioning(fields, true), bs.guess_mode ? null : residual);
    bs.noise_pred = components.guider.combine(cond, uncond);
    return [components, bs];
  }
}

export class StableDiffusionXLLoopAfterDenoiser extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return `step within the denoising loop that update the latents. ${loopNote}`;
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('eta', { default: 0.0 })];
  }

  override get intermediatesInputs() {
    return [new InputParam('generator')];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('latents', { typeHint: 'Tensor', description: 'The denoised latents' })];
  }

  override async call(components: PipelineComponents, bs: BlockState & Record<string, any>, _i: number, t: number): LoopResult {
    bs.latents = components.scheduler.step(bs.noise_pred, t, bs.latents);
    return [components, bs];
  }
}

/** The loop logic: one `loopStep` per timestep, with progress and abort checks between steps. */
export class StableDiffusionXLDenoiseLoopWrapper extends LoopSequentialPipelineBlocks {
  static override modelName = MODEL;

  override get description() {
    return 'Pipeline block that iteratively denoise the latents over `timesteps`. The specific steps with each iteration can be customized with `blocks` attributes';
  }

  override get loopExpectedComponents() {
    return [guiderSpec(), schedulerSpec(), unetSpec()];
  }

  override get loopIntermediatesInputs() {
    return [
      new InputParam('timesteps', {
        required: true,
        typeHint: 'Tensor',
        description: 'The timesteps to use for the denoising process. Can be generated in set_timesteps step.',
      }),
      numInferenceStepsInput(),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const progress = this.progressBar(bs, bs.num_inference_steps);
    for (let i = 0; i < bs.timesteps.length; i++) {
      [components] = await this.loopStep(components, bs, i, bs.timesteps[i]);
      progress.update();
    }
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [StableDiffusionXLLoopBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = ['before_denoiser', 'denoiser', 'after_denoiser'];

  override get description() {
    return (
      'Denoise step that iteratively denoise the latents. \n' +
      'Its loop logic is defined in `StableDiffusionXLDenoiseLoopWrapper.__call__` method \n' +
      'At each iteration, it runs blocks defined in `blocks` sequencially:\n' +
      ' - `StableDiffusionXLLoopBeforeDenoiser`\n' +
      ' - `StableDiffusionXLLoopDenoiser`\n' +
      ' - `StableDiffusionXLLoopAfterDenoiser`\n'
    );
  }
}

export class StableDiffusionXLControlNetDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [StableDiffusionXLLoopBeforeDenoiser, StableDiffusionXLControlNetLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = ['before_denoiser', 'denoiser', 'after_denoiser'];
}
