import type { BlockLike } from '../blocks/blocks-dict.js';
import { AutoPipelineBlocks } from '../blocks/conditional-pipeline-blocks.js';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { BlockState } from '../state/block-state.js';
import type { PipelineState } from '../state/pipeline-state.js';
import type { InsertableOrderedDict } from '../util/insertable-ordered-dict.js';
import { StableDiffusionXLControlNetAutoInput } from './sdxl-before-denoise.js';
import {
  loopLatentsInput,
  schedulerSpec,
  StableDiffusionXLControlNetLoopDenoiser,
  StableDiffusionXLDenoiseLoopWrapper,
  StableDiffusionXLLoopAfterDenoiser,
  StableDiffusionXLLoopDenoiser,
} from './sdxl-denoise.js';
import { StableDiffusionXLAutoIPAdapterStep } from './sdxl-encoders.js';
import { IMAGE2IMAGE_BLOCKS, TEXT2IMAGE_BLOCKS } from './sdxl-presets.js';

// The guide's differential-diffusion blocks on the toy components. The real
// ones live in plugins/diffdiff; these exist to replay the guide's flow.

export class SDXLDiffDiffPrepareLatentsStep extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return 'Step that prepares the latents for the differential diffusion generation process';
  }

  override get expectedComponents() {
    return [
      new ComponentSpec('vae', 'AutoencoderKL'),
      schedulerSpec(),
      new ComponentSpec('mask_processor', 'VaeImageProcessor', {
        config: { do_normalize: false, do_convert_grayscale: true },
        defaultCreationMethod: 'fromConfig',
      }),
    ];
  }

  override get inputs() {
    return [
      new InputParam('latents'),
      new InputParam('num_images_per_prompt', { default: 1 }),
      new InputParam('denoising_start'),
      new InputParam('diffdiff_map', { required: true }),
    ];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      new InputParam('timesteps', { typeHint: 'Tensor', description: 'The timesteps to use for sampling. Can be generated in set_timesteps step.' }),
      new InputParam('num_inference_steps', {
        typeHint: 'int',
        description: 'The number of inference steps to use for the denoising process. Can be generated in set_timesteps step.',
      }),
      new InputParam('image_latents', {
        required: true,
        typeHint: 'Tensor',
        description: 'The latents representing the reference image for image-to-image/inpainting generation. Can be generated in vae_encode step.',
      }),
      new InputParam('batch_size', { required: true, typeHint: 'int', description: 'Number of prompts. Can be generated in input step.' }),
      new InputParam('dtype', { required: true, typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    ];
  }

  override get intermediatesOutputs() {
    return [
      new OutputParam('latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' }),
      new OutputParam('original_latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' }),
      new OutputParam('diffdiff_masks', { typeHint: 'Tensor', description: 'The masks used for the differential diffusion denoising process' }),
    ];
  }

  /**
   * original_latents[i] = image_latents noised to timesteps[i];
   * diffdiff_masks[i][j] = map[j] > i / n + (denoising_start ?? 0), the guide's thresholds.
   */
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const timesteps: number[] = bs.timesteps;
    bs.original_latents = timesteps.map((t) => components.scheduler.addNoise(bs.image_latents, t));
    if (bs.latents == null) bs.latents = bs.original_latents[0];
    const map: number[] = components.mask_processor.preprocess(bs.diffdiff_map);
    const n: number = bs.num_inference_steps;
    bs.diffdiff_masks = Array.from({ length: n }, (_, i) => map.map((v) => v > i / n + (bs.denoising_start ?? 0)));
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class SDXLDiffDiffLoopBeforeDenoiser extends PipelineBlock {
  static override modelName = 'stable-diffusion-xl';

  override get description() {
    return 'Step within the denoising loop for differential diffusion that prepare the latent input for the denoiser';
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('denoising_start')];
  }

  override get intermediatesInputs() {
    return [
      loopLatentsInput(),
      new InputParam('original_latents', {
        typeHint: 'Tensor',
        description: 'The initial latents to use for the denoising process. Can be generated in prepare_latent step.',
      }),
      new InputParam('diffdiff_masks', {
        typeHint: 'Tensor',
        description: 'The masks used for the differential diffusion denoising process, can be generated in prepare_latent step.',
      }),
    ];
  }

  /** Step 0 starts from the noised original; later steps freeze masked latents to the original at that noise level. */
  override async call(components: PipelineComponents, bs: BlockState & Record<string, any>, i: number, t: number): Promise<[PipelineComponents, BlockState]> {
    if (i === 0 && bs.denoising_start == null) {
      bs.latents = bs.original_latents[0];
    } else {
      bs.mask = (bs.diffdiff_masks[i] as boolean[]).map((m) => (m ? 1 : 0));
      bs.latents = (bs.latents as number[]).map((v, j) => bs.original_latents[i][j] * bs.mask[j] + v * (1 - bs.mask[j]));
    }
    bs.scaled_latents = components.scheduler.scaleModelInput(bs.latents, t);
    return [components, bs];
  }
}

export class SDXLDiffDiffDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [SDXLDiffDiffLoopBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = ['before_denoiser', 'denoiser', 'after_denoiser'];
}

export class SDXLDiffDiffControlNetDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [SDXLDiffDiffLoopBeforeDenoiser, StableDiffusionXLControlNetLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = ['before_denoiser', 'denoiser', 'after_denoiser'];
}

export class SDXLDiffDiffAutoDenoiseStep extends AutoPipelineBlocks {
  static override blockClasses = [SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop];
  static override blockNames = ['controlnet_denoise', 'denoise'];
  static override blockTriggerInputs = ['controlnet_cond', null];

  override get description() {
    return (
      'Denoise step for differential diffusion.\n' +
      ' - `SDXLDiffDiffControlNetDenoiseLoop` (controlnet_denoise) is used when `controlnet_cond` is available (a `control_image` was passed).\n' +
      ' - `SDXLDiffDiffDenoiseLoop` (denoise) is used otherwise.'
    );
  }
}

/** The guide's DIFFDIFF_BLOCKS: IMAGE2IMAGE with text2img timesteps and the diff-diff latents and loop. */
export function diffDiffBlocks(): InsertableOrderedDict<BlockLike> {
  const blocks = IMAGE2IMAGE_BLOCKS.copy();
  blocks.set('set_timesteps', TEXT2IMAGE_BLOCKS.getOrThrow('set_timesteps'));
  blocks.set('prepare_latents', SDXLDiffDiffPrepareLatentsStep);
  blocks.set('denoise', SDXLDiffDiffDenoiseLoop);
  return blocks;
}

/** The guide's DIFFDIFF_AUTO_BLOCKS: diff-diff plus auto IP-adapter, auto ControlNet input and the auto denoise. */
export function diffDiffAutoBlocks(): InsertableOrderedDict<BlockLike> {
  const blocks = IMAGE2IMAGE_BLOCKS.copy();
  blocks.set('prepare_latents', SDXLDiffDiffPrepareLatentsStep);
  blocks.set('set_timesteps', TEXT2IMAGE_BLOCKS.getOrThrow('set_timesteps'));
  blocks.set('denoise', SDXLDiffDiffAutoDenoiseStep);
  blocks.insert('ip_adapter', StableDiffusionXLAutoIPAdapterStep, 0);
  blocks.insert('controlnet_input', StableDiffusionXLControlNetAutoInput, 7);
  return blocks;
}
