/**
 * The SDXL presets as data (diffusers v0.35's preset dicts, with the
 * guide's key names): ordered maps of step name to block class. Copy one
 * before editing it: `const blocks = IMAGE2IMAGE_BLOCKS.copy()`; build with
 * `SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS)`.
 */
import { InsertableOrderedDict, type BlockLike } from '@modular-diffusers/core';
import { StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep } from './before-denoise/img2img-prepare-additional-conditioning-step.js';
import { StableDiffusionXLImg2ImgPrepareLatentsStep } from './before-denoise/img2img-prepare-latents-step.js';
import { StableDiffusionXLImg2ImgSetTimestepsStep } from './before-denoise/img2img-set-timesteps-step.js';
import { StableDiffusionXLInpaintPrepareLatentsStep } from './before-denoise/inpaint-prepare-latents-step.js';
import { StableDiffusionXLInputStep } from './before-denoise/input-step.js';
import { StableDiffusionXLPrepareAdditionalConditioningStep } from './before-denoise/prepare-additional-conditioning-step.js';
import { StableDiffusionXLPrepareLatentsStep } from './before-denoise/prepare-latents-step.js';
import { StableDiffusionXLSetTimestepsStep } from './before-denoise/set-timesteps-step.js';
import { StableDiffusionXLDecodeStep } from './decoders/decode-step.js';
import { StableDiffusionXLInpaintDecodeStep } from './decoders/inpaint-decode-step.js';
import { StableDiffusionXLDenoiseLoop, StableDiffusionXLInpaintDenoiseStep } from './denoise/denoise-steps.js';
import { StableDiffusionXLInpaintVaeEncoderStep } from './encoders/inpaint-vae-encoder-step.js';
import { StableDiffusionXLTextEncoderStep } from './encoders/text-encoder-step.js';
import { StableDiffusionXLVaeEncoderStep } from './encoders/vae-encoder-step.js';

export const TEXT2IMAGE_BLOCKS = new InsertableOrderedDict<BlockLike>([
  ['text_encoder', StableDiffusionXLTextEncoderStep],
  ['input', StableDiffusionXLInputStep],
  ['set_timesteps', StableDiffusionXLSetTimestepsStep],
  ['prepare_latents', StableDiffusionXLPrepareLatentsStep],
  ['prepare_add_cond', StableDiffusionXLPrepareAdditionalConditioningStep],
  ['denoise', StableDiffusionXLDenoiseLoop],
  ['decode', StableDiffusionXLDecodeStep],
]);

export const IMAGE2IMAGE_BLOCKS = new InsertableOrderedDict<BlockLike>([
  ['text_encoder', StableDiffusionXLTextEncoderStep],
  ['image_encoder', StableDiffusionXLVaeEncoderStep],
  ['input', StableDiffusionXLInputStep],
  ['set_timesteps', StableDiffusionXLImg2ImgSetTimestepsStep],
  ['prepare_latents', StableDiffusionXLImg2ImgPrepareLatentsStep],
  ['prepare_add_cond', StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep],
  ['denoise', StableDiffusionXLDenoiseLoop],
  ['decode', StableDiffusionXLDecodeStep],
]);

export const INPAINT_BLOCKS = new InsertableOrderedDict<BlockLike>([
  ['text_encoder', StableDiffusionXLTextEncoderStep],
  ['image_encoder', StableDiffusionXLInpaintVaeEncoderStep],
  ['input', StableDiffusionXLInputStep],
  ['set_timesteps', StableDiffusionXLImg2ImgSetTimestepsStep],
  ['prepare_latents', StableDiffusionXLInpaintPrepareLatentsStep],
  ['prepare_add_cond', StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep],
  ['denoise', StableDiffusionXLInpaintDenoiseStep],
  ['decode', StableDiffusionXLInpaintDecodeStep],
]);
