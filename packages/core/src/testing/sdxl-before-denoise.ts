import { AutoPipelineBlocks } from '../blocks/conditional-pipeline-blocks.js';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ConfigSpec } from '../params/config-spec.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { guiderSpec } from './sdxl-encoders.js';

// Toy versions of diffusers' SDXL "before denoise" blocks.

const MODEL = 'stable-diffusion-xl';

const schedulerSpec = () => new ComponentSpec('scheduler', 'EulerDiscreteScheduler');
const batchSize = (suffix = '') =>
  new InputParam('batch_size', {
    required: true,
    typeHint: 'int',
    description: `Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt${suffix}`,
  });
const latentsIn = (extra = '') =>
  new InputParam('latents', {
    required: true,
    typeHint: 'Tensor',
    description: `The initial latents to use for the denoising process.${extra} Can be generated in prepare_latent step.`,
  });

export class StableDiffusionXLInputStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return (
      'Input processing step that:\n' +
      '  1. Determines `batch_size` and `dtype` based on `prompt_embeds`\n' +
      '  2. Adjusts input tensor shapes based on `batch_size` (number of prompts) and `num_images_per_prompt`\n\n' +
      'All input tensors are expected to have either batch_size=1 or match the batch_size\n' +
      'of prompt_embeds. The tensors will be duplicated across the batch dimension to\n' +
      'have a final batch_size of batch_size * num_images_per_prompt.'
    );
  }

  override get inputs() {
    return [new InputParam('num_images_per_prompt', { default: 1 })];
  }

  override get intermediatesInputs() {
    const pre = (name: string, what: string, required = false, typeHint = 'Tensor') =>
      new InputParam(name, { required, typeHint, description: `Pre-generated ${what}` });
    return [
      pre('prompt_embeds', 'text embeddings. Can be generated from text_encoder step.', true),
      pre('negative_prompt_embeds', 'negative text embeddings. Can be generated from text_encoder step.'),
      pre('pooled_prompt_embeds', 'pooled text embeddings. Can be generated from text_encoder step.', true),
      pre('negative_pooled_prompt_embeds', 'negative pooled text embeddings. Can be generated from text_encoder step.'),
      pre('ip_adapter_embeds', 'image embeddings for IP-Adapter. Can be generated from ip_adapter step.', false, 'List[Tensor]'),
      pre('negative_ip_adapter_embeds', 'negative image embeddings for IP-Adapter. Can be generated from ip_adapter step.', false, 'List[Tensor]'),
    ];
  }

  override get intermediatesOutputs() {
    const tagged = (name: string, description: string, typeHint = 'Tensor') =>
      new OutputParam(name, { typeHint, kwargsType: 'guider_input_fields', description });
    return [
      new OutputParam('batch_size', {
        typeHint: 'int',
        description: 'Number of prompts, the final batch size of model inputs should be batch_size * num_images_per_prompt',
      }),
      new OutputParam('dtype', { typeHint: 'dtype', description: 'Data type of model tensor inputs (determined by `prompt_embeds`)' }),
      tagged('prompt_embeds', 'text embeddings used to guide the image generation'),
      tagged('negative_prompt_embeds', 'negative text embeddings used to guide the image generation'),
      tagged('pooled_prompt_embeds', 'pooled text embeddings used to guide the image generation'),
      tagged('negative_pooled_prompt_embeds', 'negative pooled text embeddings used to guide the image generation'),
      tagged('ip_adapter_embeds', 'image embeddings for IP-Adapter', 'List[Tensor]'),
      tagged('negative_ip_adapter_embeds', 'negative image embeddings for IP-Adapter', 'List[Tensor]'),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.batch_size = 1;
    bs.dtype = 'float32';
    this.setBlockState(state, bs);
    return [components, state];
  }
}

const timestepOutputs = () => [
  new OutputParam('timesteps', { typeHint: 'Tensor', description: 'The timesteps to use for inference' }),
  new OutputParam('num_inference_steps', { typeHint: 'int', description: 'The number of denoising steps to perform at inference time' }),
];

export class StableDiffusionXLSetTimestepsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return "Step that sets the scheduler's timesteps for inference";
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('num_inference_steps', { default: 50 }), new InputParam('timesteps'), new InputParam('sigmas'), new InputParam('denoising_end')];
  }

  override get intermediatesOutputs() {
    return timestepOutputs();
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.timesteps = bs.timesteps ?? components.scheduler.timestepsFor(bs.num_inference_steps);
    bs.num_inference_steps = bs.timesteps.length;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLImg2ImgSetTimestepsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return (
      'Step that sets the timesteps for the scheduler and determines the initial noise level (latent_timestep) for image-to-image/inpainting generation.\n' +
      'The latent_timestep is calculated from the `strength` parameter - higher strength means starting from a noisier version of the input image.'
    );
  }

  override get expectedComponents() {
    return [schedulerSpec()];
  }

  override get inputs() {
    return [
      new InputParam('num_inference_steps', { default: 50 }),
      new InputParam('timesteps'),
      new InputParam('sigmas'),
      new InputParam('denoising_end'),
      new InputParam('strength', { default: 0.3 }),
      new InputParam('denoising_start'),
      new InputParam('num_images_per_prompt', { default: 1 }),
    ];
  }

  override get intermediatesInputs() {
    return [batchSize()];
  }

  override get intermediatesOutputs() {
    return [
      ...timestepOutputs(),
      new OutputParam('latent_timestep', {
        typeHint: 'Tensor',
        description: 'The timestep that represents the initial noise level for image-to-image generation',
      }),
    ];
  }

  /** Keeps the last `floor(n * strength)` timesteps, as diffusers' get_timesteps does. */
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const all: number[] = components.scheduler.timestepsFor(bs.num_inference_steps);
    const initSteps = Math.min(Math.floor(bs.num_inference_steps * bs.strength), bs.num_inference_steps);
    bs.timesteps = all.slice(all.length - initSteps);
    bs.num_inference_steps = bs.timesteps.length;
    bs.latent_timestep = bs.timesteps[0];
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLPrepareLatentsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Prepare latents step that prepares the latents for the text-to-image generation process';
  }

  override get expectedComponents() {
    return [schedulerSpec(), new ComponentSpec('vae', 'AutoencoderKL')];
  }

  override get inputs() {
    return [new InputParam('height'), new InputParam('width'), new InputParam('latents'), new InputParam('num_images_per_prompt', { default: 1 })];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      batchSize('. Can be generated in input step.'),
      new InputParam('dtype', { typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    ];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' })];
  }

  /** Pure noise at t=1000: a latent of 1 per pixel of `width` (default 4). */
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.latents = bs.latents ?? components.scheduler.addNoise(new Array(bs.width ?? 4).fill(0), 1000);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLImg2ImgPrepareLatentsStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Step that prepares the latents for the image-to-image generation process';
  }

  override get expectedComponents() {
    return [new ComponentSpec('vae', 'AutoencoderKL'), schedulerSpec()];
  }

  override get inputs() {
    return [new InputParam('latents'), new InputParam('num_images_per_prompt', { default: 1 }), new InputParam('denoising_start')];
  }

  override get intermediatesInputs() {
    return [
      new InputParam('generator'),
      new InputParam('latent_timestep', {
        required: true,
        typeHint: 'Tensor',
        description:
          'The timestep that represents the initial noise level for image-to-image/inpainting generation. Can be generated in set_timesteps step.',
      }),
      new InputParam('image_latents', {
        required: true,
        typeHint: 'Tensor',
        description:
          'The latents representing the reference image for image-to-image/inpainting generation. Can be generated in vae_encode step.',
      }),
      batchSize('. Can be generated in input step.'),
      new InputParam('dtype', { required: true, typeHint: 'dtype', description: 'The dtype of the model inputs' }),
    ];
  }

  override get intermediatesOutputs() {
    return [new OutputParam('latents', { typeHint: 'Tensor', description: 'The initial latents to use for the denoising process' })];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.add_noise = bs.denoising_start == null;
    if (bs.latents == null) bs.latents = components.scheduler.addNoise(bs.image_latents, bs.add_noise ? bs.latent_timestep : 0);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

const additionalConditioningOutputs = () => [
  new OutputParam('add_time_ids', { typeHint: 'Tensor', kwargsType: 'guider_input_fields', description: 'The time ids to condition the denoising process' }),
  new OutputParam('negative_add_time_ids', {
    typeHint: 'Tensor',
    kwargsType: 'guider_input_fields',
    description: 'The negative time ids to condition the denoising process',
  }),
  new OutputParam('timestep_cond', { typeHint: 'Tensor', description: 'The timestep cond to use for LCM' }),
];

const additionalConditioningIntermediates = () => [
  latentsIn(),
  new InputParam('pooled_prompt_embeds', {
    required: true,
    typeHint: 'Tensor',
    description:
      'The pooled prompt embeddings to use for the denoising process (used to determine shapes and dtypes for other additional conditioning inputs). Can be generated in text_encoder step.',
  }),
  batchSize('. Can be generated in input step.'),
];

const sizeInputs = () => [
  new InputParam('original_size'),
  new InputParam('target_size'),
  new InputParam('negative_original_size'),
  new InputParam('negative_target_size'),
  new InputParam('crops_coords_top_left', { default: [0, 0] }),
  new InputParam('negative_crops_coords_top_left', { default: [0, 0] }),
  new InputParam('num_images_per_prompt', { default: 1 }),
];

export class StableDiffusionXLPrepareAdditionalConditioningStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Step that prepares the additional conditioning for the text-to-image generation process';
  }

  override get expectedComponents() {
    return [new ComponentSpec('unet', 'UNet2DConditionModel'), guiderSpec()];
  }

  override get inputs() {
    return sizeInputs();
  }

  override get intermediatesInputs() {
    return additionalConditioningIntermediates();
  }

  override get intermediatesOutputs() {
    return additionalConditioningOutputs();
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const size = bs.original_size ?? [bs.latents.length, bs.latents.length];
    bs.add_time_ids = [...size, ...bs.crops_coords_top_left, ...(bs.target_size ?? size)];
    bs.negative_add_time_ids = [...(bs.negative_original_size ?? size), ...bs.negative_crops_coords_top_left, ...(bs.negative_target_size ?? size)];
    bs.timestep_cond = null;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'Step that prepares the additional conditioning for the image-to-image/inpainting generation process';
  }

  override get expectedConfigs() {
    return [new ConfigSpec('requires_aesthetics_score', false)];
  }

  override get expectedComponents() {
    return [new ComponentSpec('unet', 'UNet2DConditionModel'), guiderSpec()];
  }

  override get inputs() {
    return [...sizeInputs(), new InputParam('aesthetic_score', { default: 6.0 }), new InputParam('negative_aesthetic_score', { default: 2.0 })];
  }

  override get intermediatesInputs() {
    return additionalConditioningIntermediates();
  }

  override get intermediatesOutputs() {
    return additionalConditioningOutputs();
  }

  /** With `requires_aesthetics_score` the time ids end in the aesthetic score, otherwise in the target size. */
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    const size = bs.original_size ?? [bs.latents.length, bs.latents.length];
    const tail = components.config.requires_aesthetics_score ? [bs.aesthetic_score] : (bs.target_size ?? size);
    const negativeTail = components.config.requires_aesthetics_score ? [bs.negative_aesthetic_score] : (bs.negative_target_size ?? size);
    bs.add_time_ids = [...size, ...bs.crops_coords_top_left, ...tail];
    bs.negative_add_time_ids = [...(bs.negative_original_size ?? size), ...bs.negative_crops_coords_top_left, ...negativeTail];
    bs.timestep_cond = null;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

const controlNetOutputs = () => [
  new OutputParam('controlnet_cond', { typeHint: 'Tensor', description: 'The processed control image' }),
  new OutputParam('control_guidance_start', { typeHint: 'List[float]', description: 'The controlnet guidance start values' }),
  new OutputParam('control_guidance_end', { typeHint: 'List[float]', description: 'The controlnet guidance end values' }),
  new OutputParam('conditioning_scale', { typeHint: 'List[float]', description: 'The controlnet conditioning scale values' }),
  new OutputParam('guess_mode', { typeHint: 'bool', description: 'Whether guess mode is used' }),
  new OutputParam('controlnet_keep', { typeHint: 'List[float]', description: 'The controlnet keep values' }),
];

const controlNetInputs = () => [
  new InputParam('control_guidance_start', { default: 0.0 }),
  new InputParam('control_guidance_end', { default: 1.0 }),
  new InputParam('controlnet_conditioning_scale', { default: 1.0 }),
  new InputParam('guess_mode', { default: false }),
  new InputParam('num_images_per_prompt', { default: 1 }),
];

const controlNetIntermediates = () => [
  latentsIn(),
  batchSize('. Can be generated in input step.'),
  new InputParam('timesteps', {
    required: true,
    typeHint: 'Tensor',
    description: 'The timesteps to use for the denoising process. Can be generated in set_timesteps step.',
  }),
  new InputParam('crops_coords', {
    typeHint: 'Optional[Tuple[int]]',
    description:
      'The crop coordinates to use for preprocess/postprocess the image and mask, for inpainting task only. Can be generated in vae_encode step.',
  }),
];

const controlImageProcessorSpec = () =>
  new ComponentSpec('control_image_processor', 'VaeImageProcessor', {
    config: { do_convert_rgb: true, do_normalize: false },
    defaultCreationMethod: 'fromConfig',
  });

/** keep[i] = 1 while step i lies inside [start, end) of the schedule, as diffusers computes controlnet_keep. */
function controlnetKeep(steps: number, start: number, end: number): number[] {
  return Array.from({ length: steps }, (_, i) => (i / steps < start || (i + 1) / steps > end ? 0 : 1));
}

export class StableDiffusionXLControlNetInputStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'step that prepare inputs for controlnet';
  }

  override get expectedComponents() {
    return [new ComponentSpec('controlnet', 'ControlNetModel'), controlImageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('control_image', { required: true }), ...controlNetInputs()];
  }

  override get intermediatesInputs() {
    return controlNetIntermediates();
  }

  override get intermediatesOutputs() {
    return controlNetOutputs();
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.controlnet_cond = components.control_image_processor.preprocess(bs.control_image);
    bs.conditioning_scale = bs.controlnet_conditioning_scale;
    bs.controlnet_keep = controlnetKeep(bs.timesteps.length, bs.control_guidance_start, bs.control_guidance_end);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLControlNetUnionInputStep extends PipelineBlock {
  static override modelName = MODEL;

  override get description() {
    return 'step that prepares inputs for the ControlNetUnion model';
  }

  override get expectedComponents() {
    return [new ComponentSpec('controlnet', 'ControlNetUnionModel'), controlImageProcessorSpec()];
  }

  override get inputs() {
    return [new InputParam('control_image', { required: true }), new InputParam('control_mode', { required: true }), ...controlNetInputs()];
  }

  override get intermediatesInputs() {
    return [...controlNetIntermediates(), new InputParam('dtype', { required: true, typeHint: 'dtype', description: 'The dtype of model tensor inputs' })];
  }

  override get intermediatesOutputs() {
    return [
      ...controlNetOutputs(),
      new OutputParam('control_type_idx', { typeHint: 'List[int]', kwargsType: 'controlnet_kwargs', description: 'The control mode indices' }),
      new OutputParam('control_type', { typeHint: 'Tensor', kwargsType: 'controlnet_kwargs', description: 'The control type tensor' }),
    ];
  }

  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.controlnet_cond = components.control_image_processor.preprocess(bs.control_image);
    bs.conditioning_scale = bs.controlnet_conditioning_scale;
    bs.controlnet_keep = controlnetKeep(bs.timesteps.length, bs.control_guidance_start, bs.control_guidance_end);
    bs.control_type_idx = [bs.control_mode];
    bs.control_type = Array.from({ length: 6 }, (_, i) => (i === bs.control_mode ? 1 : 0));
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class StableDiffusionXLControlNetAutoInput extends AutoPipelineBlocks {
  static override blockClasses = [StableDiffusionXLControlNetUnionInputStep, StableDiffusionXLControlNetInputStep];
  static override blockNames = ['controlnet_union', 'controlnet'];
  static override blockTriggerInputs = ['control_mode', 'control_image'];

  override get description() {
    return (
      'Controlnet Input step that prepare the controlnet input.\n' +
      'This is an auto pipeline block that works for both controlnet and controlnet_union.\n' +
      ' - `StableDiffusionXLControlNetUnionInputStep` is called to prepare the controlnet input when `control_mode` and `control_image` are provided.\n' +
      ' - `StableDiffusionXLControlNetInputStep` is called to prepare the controlnet input when `control_image` is provided.'
    );
  }
}
