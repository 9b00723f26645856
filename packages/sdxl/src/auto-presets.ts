/**
 * The SDXL auto blocks (diffusers' modular_blocks_stable_diffusion_xl.py):
 * conditional blocks that pick text2img / img2img / inpaint and ControlNet /
 * IP-Adapter from the inputs given, assembled into
 * StableDiffusionXLAutoBlocks, plus the ControlNet, IP-Adapter and auto
 * presets as data. Selection follows the intermediates too: `mask` (from the
 * inpaint VAE encoder) picks inpainting, `image_latents` img2img,
 * `controlnet_cond` (from the ControlNet input step) the ControlNet loops.
 */
import { AutoPipelineBlocks, InsertableOrderedDict, OutputParam, SequentialPipelineBlocks, type BlockLike, type WorkflowMap } from '@modular-diffusers/core';
import { StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep } from './before-denoise/img2img-prepare-additional-conditioning-step.js';
import { StableDiffusionXLImg2ImgPrepareLatentsStep } from './before-denoise/img2img-prepare-latents-step.js';
import { StableDiffusionXLImg2ImgSetTimestepsStep } from './before-denoise/img2img-set-timesteps-step.js';
import { StableDiffusionXLInpaintPrepareLatentsStep } from './before-denoise/inpaint-prepare-latents-step.js';
import { StableDiffusionXLInputStep } from './before-denoise/input-step.js';
import { StableDiffusionXLPrepareAdditionalConditioningStep } from './before-denoise/prepare-additional-conditioning-step.js';
import { StableDiffusionXLPrepareLatentsStep } from './before-denoise/prepare-latents-step.js';
import { StableDiffusionXLSetTimestepsStep } from './before-denoise/set-timesteps-step.js';
import { StableDiffusionXLControlNetInputStep } from './controlnet/controlnet-input-step.js';
import { StableDiffusionXLControlNetUnionInputStep } from './controlnet/controlnet-union-input-step.js';
import { StableDiffusionXLDecodeStep } from './decoders/decode-step.js';
import { StableDiffusionXLInpaintDecodeStep } from './decoders/inpaint-decode-step.js';
import {
  StableDiffusionXLControlNetDenoiseStep,
  StableDiffusionXLDenoiseStep,
  StableDiffusionXLInpaintControlNetDenoiseStep,
  StableDiffusionXLInpaintDenoiseStep,
} from './denoise/denoise-steps.js';
import { MODEL_NAME } from './denoise/loop-params.js';
import { StableDiffusionXLInpaintVaeEncoderStep } from './encoders/inpaint-vae-encoder-step.js';
import { StableDiffusionXLTextEncoderStep } from './encoders/text-encoder-step.js';
import { StableDiffusionXLVaeEncoderStep } from './encoders/vae-encoder-step.js';
import { StableDiffusionXLAutoIPAdapterStep } from './ip-adapter/auto-ip-adapter-step.js';
import { IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from './presets.js';

export { StableDiffusionXLAutoIPAdapterStep };

/** vae encoder (before before_denoise): inpaint when `mask_image` is given, img2img when only `image` is, else skipped. */
export class StableDiffusionXLAutoVaeEncoderStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLInpaintVaeEncoderStep, StableDiffusionXLVaeEncoderStep];
  static override blockNames = ['inpaint', 'img2img'];
  static override blockTriggerInputs = ['mask_image', 'image'];

  override get description() {
    return (
      'Vae encoder step that encode the image inputs into their latent representations.\n' +
      'This is an auto pipeline block that works for both inpainting and img2img tasks.\n' +
      ' - `StableDiffusionXLInpaintVaeEncoderStep` (inpaint) is used when `mask_image` is provided.\n' +
      ' - `StableDiffusionXLVaeEncoderStep` (img2img) is used when only `image` is provided.' +
      ' - if neither `mask_image` nor `image` is provided, step will be skipped.'
    );
  }
}

export class StableDiffusionXLBeforeDenoiseStep extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLSetTimestepsStep, StableDiffusionXLPrepareLatentsStep, StableDiffusionXLPrepareAdditionalConditioningStep];
  static override blockNames = ['set_timesteps', 'prepare_latents', 'prepare_add_cond'];

  override get description() {
    return (
      'Before denoise step that prepare the inputs for the denoise step.\n' +
      'This is a sequential pipeline blocks:\n' +
      ' - `StableDiffusionXLSetTimestepsStep` is used to set the timesteps\n' +
      ' - `StableDiffusionXLPrepareLatentsStep` is used to prepare the latents\n' +
      ' - `StableDiffusionXLPrepareAdditionalConditioningStep` is used to prepare the additional conditioning\n'
    );
  }
}

export class StableDiffusionXLImg2ImgBeforeDenoiseStep extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [
    StableDiffusionXLImg2ImgSetTimestepsStep,
    StableDiffusionXLImg2ImgPrepareLatentsStep,
    StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep,
  ];
  static override blockNames = ['set_timesteps', 'prepare_latents', 'prepare_add_cond'];

  override get description() {
    return (
      'Before denoise step that prepare the inputs for the denoise step for img2img task.\n' +
      'This is a sequential pipeline blocks:\n' +
      ' - `StableDiffusionXLImg2ImgSetTimestepsStep` is used to set the timesteps\n' +
      ' - `StableDiffusionXLImg2ImgPrepareLatentsStep` is used to prepare the latents\n' +
      ' - `StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep` is used to prepare the additional conditioning\n'
    );
  }
}

export class StableDiffusionXLInpaintBeforeDenoiseStep extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [
    StableDiffusionXLImg2ImgSetTimestepsStep,
    StableDiffusionXLInpaintPrepareLatentsStep,
    StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep,
  ];
  static override blockNames = ['set_timesteps', 'prepare_latents', 'prepare_add_cond'];

  override get description() {
    return (
      'Before denoise step that prepare the inputs for the denoise step for inpainting task.\n' +
      'This is a sequential pipeline blocks:\n' +
      ' - `StableDiffusionXLImg2ImgSetTimestepsStep` is used to set the timesteps\n' +
      ' - `StableDiffusionXLInpaintPrepareLatentsStep` is used to prepare the latents\n' +
      ' - `StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep` is used to prepare the additional conditioning\n'
    );
  }
}

/** before_denoise for every task: inpaint when `mask` exists, img2img when `image_latents` does, else text2img. */
export class StableDiffusionXLAutoBeforeDenoiseStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLInpaintBeforeDenoiseStep, StableDiffusionXLImg2ImgBeforeDenoiseStep, StableDiffusionXLBeforeDenoiseStep];
  static override blockNames = ['inpaint', 'img2img', 'text2img'];
  static override blockTriggerInputs = ['mask', 'image_latents', null];

  override get description() {
    return (
      'Before denoise step that prepare the inputs for the denoise step.\n' +
      'This is an auto pipeline block that works for text2img, img2img and inpainting tasks as well as controlnet, controlnet_union.\n' +
      ' - `StableDiffusionXLInpaintBeforeDenoiseStep` (inpaint) is used when both `mask` and `image_latents` are provided.\n' +
      ' - `StableDiffusionXLImg2ImgBeforeDenoiseStep` (img2img) is used when only `image_latents` is provided.\n' +
      ' - `StableDiffusionXLBeforeDenoiseStep` (text2img) is used when both `image_latents` and `mask` are not provided.\n'
    );
  }
}

/** ControlNet input (right before denoise): union when `control_mode` is given, plain when `control_image` is, else skipped. */
export class StableDiffusionXLAutoControlNetInputStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLControlNetUnionInputStep, StableDiffusionXLControlNetInputStep];
  static override blockNames = ['controlnet_union', 'controlnet'];
  static override blockTriggerInputs = ['control_mode', 'control_image'];

  override get description() {
    return (
      'Controlnet Input step that prepare the controlnet input.\n' +
      'This is an auto pipeline block that works for both controlnet and controlnet_union.\n' +
      ' (it should be called right before the denoise step)' +
      ' - `StableDiffusionXLControlNetUnionInputStep` is called to prepare the controlnet input when `control_mode` and `control_image` are provided.\n' +
      ' - `StableDiffusionXLControlNetInputStep` is called to prepare the controlnet input when `control_image` is provided.' +
      ' - if neither `control_mode` nor `control_image` is provided, step will be skipped.'
    );
  }
}

/** The ControlNet denoise loops: inpaint when `mask` exists, else the text2img/img2img one when `controlnet_cond` does. */
export class StableDiffusionXLAutoControlNetDenoiseStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLInpaintControlNetDenoiseStep, StableDiffusionXLControlNetDenoiseStep];
  static override blockNames = ['inpaint_controlnet_denoise', 'controlnet_denoise'];
  static override blockTriggerInputs = ['mask', 'controlnet_cond'];

  override get description() {
    return (
      'Denoise step that iteratively denoise the latents with controlnet. ' +
      'This is a auto pipeline block that using controlnet for text2img, img2img and inpainting tasks.' +
      'This block should not be used without a controlnet_cond input' +
      ' - `StableDiffusionXLInpaintControlNetDenoiseStep` (inpaint_controlnet_denoise) is used when mask is provided.' +
      ' - `StableDiffusionXLControlNetDenoiseStep` (controlnet_denoise) is used when mask is not provided but controlnet_cond is provided.' +
      ' - If neither mask nor controlnet_cond are provided, step will be skipped.'
    );
  }
}

/** Every denoise loop: ControlNet when `controlnet_cond` exists, inpaint when `mask` does, else text2img/img2img. */
export class StableDiffusionXLAutoDenoiseStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLAutoControlNetDenoiseStep, StableDiffusionXLInpaintDenoiseStep, StableDiffusionXLDenoiseStep];
  static override blockNames = ['controlnet_denoise', 'inpaint_denoise', 'denoise'];
  static override blockTriggerInputs = ['controlnet_cond', 'mask', null];

  override get description() {
    return (
      'Denoise step that iteratively denoise the latents. ' +
      'This is a auto pipeline block that works for text2img, img2img and inpainting tasks. And can be used with or without controlnet.' +
      ' - `StableDiffusionXLAutoControlNetDenoiseStep` (controlnet_denoise) is used when controlnet_cond is provided (support controlnet withtext2img, img2img and inpainting tasks).' +
      ' - `StableDiffusionXLInpaintDenoiseStep` (inpaint_denoise) is used when mask is provided (support inpainting tasks).' +
      ' - `StableDiffusionXLDenoiseStep` (denoise) is used when neither mask nor controlnet_cond are provided (support text2img and img2img tasks).'
    );
  }
}

/** Decode for every task: with the inpaint overlay when `padding_mask_crop` is given. */
export class StableDiffusionXLAutoDecodeStep extends AutoPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLInpaintDecodeStep, StableDiffusionXLDecodeStep];
  static override blockNames = ['inpaint', 'non-inpaint'];
  static override blockTriggerInputs = ['padding_mask_crop', null];

  override get description() {
    return (
      'Decode step that decode the denoised latents into images outputs.\n' +
      'This is an auto pipeline block that works for inpainting and non-inpainting tasks.\n' +
      ' - `StableDiffusionXLInpaintDecodeStep` (inpaint) is used when `padding_mask_crop` is provided.\n' +
      ' - `StableDiffusionXLDecodeStep` (non-inpaint) is used when `padding_mask_crop` is not provided.'
    );
  }
}

/** input -> auto before_denoise -> auto controlnet input -> auto denoise. */
export class StableDiffusionXLCoreDenoiseStep extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [
    StableDiffusionXLInputStep,
    StableDiffusionXLAutoBeforeDenoiseStep,
    StableDiffusionXLAutoControlNetInputStep,
    StableDiffusionXLAutoDenoiseStep,
  ];
  static override blockNames = ['input', 'before_denoise', 'controlnet_input', 'denoise'];

  override get description() {
    return (
      'Core step that performs the denoising process. \n' +
      ' - `StableDiffusionXLInputStep` (input) standardizes the inputs for the denoising step.\n' +
      ' - `StableDiffusionXLAutoBeforeDenoiseStep` (before_denoise) prepares the inputs for the denoising step.\n' +
      ' - `StableDiffusionXLAutoControlNetInputStep` (controlnet_input) prepares the controlnet input.\n' +
      ' - `StableDiffusionXLAutoDenoiseStep` (denoise) iteratively denoises the latents.\n\n' +
      'This step support text-to-image, image-to-image, inpainting, with or without controlnet/controlnet_union/ip_adapter for Stable Diffusion XL:\n' +
      '- for image-to-image generation, you need to provide `image_latents`\n' +
      '- for inpainting, you need to provide `mask_image` and `image_latents`\n' +
      '- to run the controlnet workflow, you need to provide `control_image`\n' +
      '- to run the controlnet_union workflow, you need to provide `control_image` and `control_mode`\n' +
      '- to run the ip_adapter workflow, you need to load ip_adapter into your unet and provide `ip_adapter_embeds`\n' +
      '- for text-to-image generation, all you need to provide is prompt embeddings\n'
    );
  }
}

/** The whole auto pipeline: text2img, img2img, inpainting, each with or without ControlNet(-Union) and IP-Adapter. */
export class StableDiffusionXLAutoBlocks extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [
    StableDiffusionXLTextEncoderStep,
    StableDiffusionXLAutoIPAdapterStep,
    StableDiffusionXLAutoVaeEncoderStep,
    StableDiffusionXLCoreDenoiseStep,
    StableDiffusionXLAutoDecodeStep,
  ];
  static override blockNames = ['text_encoder', 'ip_adapter', 'vae_encoder', 'denoise', 'decode'];
  /** The workflows diffusers' StableDiffusionXLAutoBlocks declares (its `_workflow_map` at 58eb52c), with the inputs that select each. */
  static override workflowMap: WorkflowMap = {
    text2image: { prompt: true },
    image2image: { image: true, prompt: true },
    inpainting: { mask_image: true, image: true, prompt: true },
    controlnet_text2image: { control_image: true, prompt: true },
    controlnet_image2image: { control_image: true, image: true, prompt: true },
    controlnet_inpainting: { control_image: true, mask_image: true, image: true, prompt: true },
    controlnet_union_text2image: { control_image: true, control_mode: true, prompt: true },
    controlnet_union_image2image: { control_image: true, control_mode: true, image: true, prompt: true },
    controlnet_union_inpainting: { control_image: true, control_mode: true, mask_image: true, image: true, prompt: true },
    ip_adapter_text2image: { ip_adapter_image: true, prompt: true },
    ip_adapter_image2image: { ip_adapter_image: true, image: true, prompt: true },
    ip_adapter_inpainting: { ip_adapter_image: true, mask_image: true, image: true, prompt: true },
    ip_adapter_controlnet_text2image: { ip_adapter_image: true, control_image: true, prompt: true },
    ip_adapter_controlnet_image2image: { ip_adapter_image: true, control_image: true, image: true, prompt: true },
    ip_adapter_controlnet_inpainting: { ip_adapter_image: true, control_image: true, mask_image: true, image: true, prompt: true },
    ip_adapter_controlnet_union_text2image: { ip_adapter_image: true, control_image: true, control_mode: true, prompt: true },
    ip_adapter_controlnet_union_image2image: { ip_adapter_image: true, control_image: true, control_mode: true, image: true, prompt: true },
    ip_adapter_controlnet_union_inpainting: { ip_adapter_image: true, control_image: true, control_mode: true, mask_image: true, image: true, prompt: true },
  };

  override get description() {
    return (
      // diffusers 58eb52c: one line; the workflows (workflowMap) follow it in the printout and doc.
      'Auto Modular pipeline for text-to-image, image-to-image, inpainting, and controlnet tasks using Stable Diffusion XL.'
    );
  }

  /** As diffusers: the pipeline's result is the images; intermediates stay in the state. */
  override get outputs(): OutputParam[] {
    return [new OutputParam('images', { typeHint: 'List[RgbImage]', description: 'The generated images' })];
  }
}

/** ControlNet input then the ControlNet denoise loop (for text2img, img2img and inpainting), to replace a preset's 'denoise'. */
export class StableDiffusionXLAutoControlnetStep extends SequentialPipelineBlocks {
  static override modelName = MODEL_NAME;
  static override blockClasses = [StableDiffusionXLAutoControlNetInputStep, StableDiffusionXLAutoControlNetDenoiseStep];
  static override blockNames = ['controlnet_input', 'controlnet_denoise'];

  override get description() {
    return (
      'Controlnet auto step that prepare the controlnet input and denoise the latents. ' +
      'It works for both controlnet and controlnet_union and supports text2img, img2img and inpainting tasks.' +
      " (it should be replace at 'denoise' step)"
    );
  }
}

/** Replaces a preset's 'denoise' step: `blocks = TEXT2IMAGE_BLOCKS.copy(); blocks.set('denoise', CONTROLNET_BLOCKS.get('denoise'))`. */
export const CONTROLNET_BLOCKS = new InsertableOrderedDict<BlockLike>([['denoise', StableDiffusionXLAutoControlnetStep]]);

/** Insert at the start of a preset: `blocks.insert('ip_adapter', IP_ADAPTER_BLOCKS.get('ip_adapter'), 0)`. */
export const IP_ADAPTER_BLOCKS = new InsertableOrderedDict<BlockLike>([['ip_adapter', StableDiffusionXLAutoIPAdapterStep]]);

/** StableDiffusionXLAutoBlocks as a preset dict. */
export const AUTO_BLOCKS = new InsertableOrderedDict<BlockLike>([
  ['text_encoder', StableDiffusionXLTextEncoderStep],
  ['ip_adapter', StableDiffusionXLAutoIPAdapterStep],
  ['vae_encoder', StableDiffusionXLAutoVaeEncoderStep],
  ['denoise', StableDiffusionXLCoreDenoiseStep],
  ['decode', StableDiffusionXLAutoDecodeStep],
]);

/** A base preset with a ControlNet: the input step before 'denoise', and the matching ControlNet loop. */
function withControlNet(base: InsertableOrderedDict<BlockLike>, denoise: BlockLike): InsertableOrderedDict<BlockLike> {
  const blocks = base.copy();
  blocks.insert('controlnet_input', StableDiffusionXLControlNetInputStep, blocks.indexOf('denoise'));
  blocks.set('denoise', denoise);
  return blocks;
}

/** Runnable ControlNet presets: text2img / img2img / inpaint with `control_image`. */
export const CONTROLNET_TEXT2IMAGE_BLOCKS = withControlNet(TEXT2IMAGE_BLOCKS, StableDiffusionXLControlNetDenoiseStep);
export const CONTROLNET_IMAGE2IMAGE_BLOCKS = withControlNet(IMAGE2IMAGE_BLOCKS, StableDiffusionXLControlNetDenoiseStep);
export const CONTROLNET_INPAINT_BLOCKS = withControlNet(INPAINT_BLOCKS, StableDiffusionXLInpaintControlNetDenoiseStep);

export const ALL_BLOCKS = {
  text2img: TEXT2IMAGE_BLOCKS,
  img2img: IMAGE2IMAGE_BLOCKS,
  inpaint: INPAINT_BLOCKS,
  controlnet: CONTROLNET_BLOCKS,
  ip_adapter: IP_ADAPTER_BLOCKS,
  auto: AUTO_BLOCKS,
} as const;

// A saved index that names these classes (`_blocks_class_name`) gets them back without
// remote code once the sdxl family is registered (sdxl-blocks-family.ts); the auto blocks
// are the default of a standard SDXL `model_index.json` repo.
export const SDXL_NAMED_BLOCKS_CLASSES = [
  StableDiffusionXLAutoVaeEncoderStep,
  StableDiffusionXLBeforeDenoiseStep,
  StableDiffusionXLImg2ImgBeforeDenoiseStep,
  StableDiffusionXLInpaintBeforeDenoiseStep,
  StableDiffusionXLAutoBeforeDenoiseStep,
  StableDiffusionXLAutoControlNetInputStep,
  StableDiffusionXLAutoControlNetDenoiseStep,
  StableDiffusionXLAutoDenoiseStep,
  StableDiffusionXLAutoDecodeStep,
  StableDiffusionXLCoreDenoiseStep,
] as const;
