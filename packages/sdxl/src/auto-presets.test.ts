import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import {
  AUTO_BLOCKS,
  CONTROLNET_BLOCKS,
  CONTROLNET_INPAINT_BLOCKS,
  CONTROLNET_TEXT2IMAGE_BLOCKS,
  StableDiffusionXLAutoBlocks,
  StableDiffusionXLAutoIPAdapterStep,
} from './auto-presets.js';
import { StableDiffusionXLControlNetAutoInput } from './controlnet/controlnet-auto-input.js';
import { TEXT2IMAGE_BLOCKS } from './presets.js';
import { goldenPrintout } from './printouts/guide-printout.test-helpers.js';

/** `name (Class)` for every block that would run. */
const plan = (...inputs: string[]) =>
  new StableDiffusionXLAutoBlocks()
    .getExecutionBlocks(...inputs)!
    .blocks.entries()
    .map(([name, block]) => `${name} (${block.className})`);

const TEXT2IMAGE_PLAN = [
  'text_encoder (StableDiffusionXLTextEncoderStep)',
  'denoise.input (StableDiffusionXLInputStep)',
  'denoise.before_denoise.set_timesteps (StableDiffusionXLSetTimestepsStep)',
  'denoise.before_denoise.prepare_latents (StableDiffusionXLPrepareLatentsStep)',
  'denoise.before_denoise.prepare_add_cond (StableDiffusionXLPrepareAdditionalConditioningStep)',
  'denoise.denoise (StableDiffusionXLDenoiseStep)',
  'decode (StableDiffusionXLDecodeStep)',
];

describe('guide printouts', () => {
  it('StableDiffusionXLAutoIPAdapterStep prints as in the guide', () => {
    expect(String(new StableDiffusionXLAutoIPAdapterStep())).toBe(goldenPrintout('auto-ip-adapter-step'));
  });

  it('StableDiffusionXLControlNetAutoInput prints as in the guide', () => {
    expect(String(new StableDiffusionXLControlNetAutoInput())).toBe(goldenPrintout('controlnet-auto-input'));
  });
});

describe('StableDiffusionXLAutoBlocks.getExecutionBlocks', () => {
  it('runs text2img for a prompt alone (diffusers\' text2image workflow)', () => {
    expect(plan('prompt')).toEqual(TEXT2IMAGE_PLAN);
  });

  it('runs img2img when an image is given: the VAE encoder output image_latents selects the img2img steps', () => {
    expect(plan('prompt', 'image')).toEqual([
      'text_encoder (StableDiffusionXLTextEncoderStep)',
      'vae_encoder (StableDiffusionXLVaeEncoderStep)',
      'denoise.input (StableDiffusionXLInputStep)',
      'denoise.before_denoise.set_timesteps (StableDiffusionXLImg2ImgSetTimestepsStep)',
      'denoise.before_denoise.prepare_latents (StableDiffusionXLImg2ImgPrepareLatentsStep)',
      'denoise.before_denoise.prepare_add_cond (StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep)',
      'denoise.denoise (StableDiffusionXLDenoiseStep)',
      'decode (StableDiffusionXLDecodeStep)',
    ]);
  });

  it('runs inpainting when a mask image is given, with the overlay decode for padding_mask_crop', () => {
    expect(plan('prompt', 'image', 'mask_image')).toEqual([
      'text_encoder (StableDiffusionXLTextEncoderStep)',
      'vae_encoder (StableDiffusionXLInpaintVaeEncoderStep)',
      'denoise.input (StableDiffusionXLInputStep)',
      'denoise.before_denoise.set_timesteps (StableDiffusionXLImg2ImgSetTimestepsStep)',
      'denoise.before_denoise.prepare_latents (StableDiffusionXLInpaintPrepareLatentsStep)',
      'denoise.before_denoise.prepare_add_cond (StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep)',
      'denoise.denoise (StableDiffusionXLInpaintDenoiseStep)',
      'decode (StableDiffusionXLDecodeStep)',
    ]);
    expect(plan('prompt', 'image', 'mask_image', 'padding_mask_crop').slice(-2)).toEqual([
      'decode.decode (StableDiffusionXLDecodeStep)',
      'decode.mask_overlay (StableDiffusionXLInpaintOverlayMaskStep)',
    ]);
  });

  it('adds the ControlNet input and loop for a control image, the union input for a control mode', () => {
    const controlnet = plan('prompt', 'control_image');
    expect(controlnet).toContain('denoise.controlnet_input (StableDiffusionXLControlNetInputStep)');
    expect(controlnet).toContain('denoise.denoise (StableDiffusionXLControlNetDenoiseStep)');
    expect(controlnet).toHaveLength(TEXT2IMAGE_PLAN.length + 1);

    const union = plan('prompt', 'control_image', 'control_mode');
    expect(union).toContain('denoise.controlnet_input (StableDiffusionXLControlNetUnionInputStep)');
    expect(union).toContain('denoise.denoise (StableDiffusionXLControlNetDenoiseStep)');

    const inpaint = plan('prompt', 'image', 'mask_image', 'control_image');
    expect(inpaint).toContain('denoise.denoise (StableDiffusionXLInpaintControlNetDenoiseStep)');
  });

  it('adds the IP-Adapter step first for an ip_adapter_image, with any task', () => {
    expect(plan('prompt', 'ip_adapter_image')).toEqual([
      TEXT2IMAGE_PLAN[0],
      'ip_adapter (StableDiffusionXLIPAdapterStep)',
      ...TEXT2IMAGE_PLAN.slice(1),
    ]);
    const all = plan('prompt', 'ip_adapter_image', 'image', 'control_image');
    expect(all).toContain('ip_adapter (StableDiffusionXLIPAdapterStep)');
    expect(all).toContain('vae_encoder (StableDiffusionXLVaeEncoderStep)');
    expect(all).toContain('denoise.denoise (StableDiffusionXLControlNetDenoiseStep)');
  });

  it('declares every component and config the auto pipeline needs, images as its output', () => {
    const blocks = new StableDiffusionXLAutoBlocks();
    expect(blocks.expectedComponents.map((c) => `${c.name}:${c.typeName}`)).toEqual([
      'text_encoder:CLIPTextModel',
      'text_encoder_2:CLIPTextModelWithProjection',
      'tokenizer:CLIPTokenizer',
      'tokenizer_2:CLIPTokenizer',
      'guider:ClassifierFreeGuidance',
      'image_encoder:CLIPVisionModelWithProjection',
      'feature_extractor:CLIPImageProcessor',
      'unet:UNet2DConditionModel',
      'vae:AutoencoderKL',
      'image_processor:VaeImageProcessor',
      'mask_processor:VaeImageProcessor',
      'scheduler:EulerDiscreteScheduler',
      // The union step is seen first, so the shared 'controlnet' spec shows its type, as in diffusers.
      'controlnet:ControlNetUnionModel',
      'control_image_processor:VaeImageProcessor',
    ]);
    expect(blocks.expectedConfigs.map((c) => c.name)).toEqual(['force_zeros_for_empty_prompt', 'requires_aesthetics_score']);
    expect(blocks.outputNames).toEqual(['images']);
    expect(blocks.triggerInputs).toEqual([
      'control_image',
      'control_mode',
      'controlnet_cond',
      'image',
      'image_latents',
      'ip_adapter_image',
      'mask',
      'mask_image',
      'padding_mask_crop',
    ]);
  });
});

describe('presets', () => {
  it('AUTO_BLOCKS builds the same structure as StableDiffusionXLAutoBlocks', () => {
    const fromDict = SequentialPipelineBlocks.fromBlocksDict(AUTO_BLOCKS);
    expect(fromDict.blocks.keys()).toEqual(new StableDiffusionXLAutoBlocks().blocks.keys());
    expect(fromDict.getExecutionBlocks('prompt')!.blocks.keys()).toEqual(plan('prompt').map((line) => line.split(' ')[0]));
  });

  it('CONTROLNET_BLOCKS replaces a preset\'s denoise with the ControlNet input + loop', () => {
    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.set('denoise', CONTROLNET_BLOCKS.get('denoise')!);
    const plan = SequentialPipelineBlocks.fromBlocksDict(blocks).getExecutionBlocks('prompt', 'control_image')!.blocks.keys();
    expect(plan.slice(-3)).toEqual(['denoise.controlnet_input', 'denoise.controlnet_denoise', 'decode']);
  });

  it('the runnable ControlNet presets put the input step right before the ControlNet loop', () => {
    expect(CONTROLNET_TEXT2IMAGE_BLOCKS.keys()).toEqual([
      'text_encoder',
      'input',
      'set_timesteps',
      'prepare_latents',
      'prepare_add_cond',
      'controlnet_input',
      'denoise',
      'decode',
    ]);
    const inpaint = SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_INPAINT_BLOCKS);
    expect(inpaint.getBlock('denoise').className).toBe('StableDiffusionXLInpaintControlNetDenoiseStep');
    expect(inpaint.requiredInputs).toContain('control_image');
  });
});
