import type { BlockLike } from '../blocks/blocks-dict.js';
import { InsertableOrderedDict } from '../util/insertable-ordered-dict.js';
import { StableDiffusionXLDecodeStep } from './sdxl-decoders.js';
import { StableDiffusionXLDenoiseLoop } from './sdxl-denoise.js';
import { StableDiffusionXLTextEncoderStep, StableDiffusionXLVaeEncoderStep } from './sdxl-encoders.js';
import {
  StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep,
  StableDiffusionXLImg2ImgPrepareLatentsStep,
  StableDiffusionXLImg2ImgSetTimestepsStep,
  StableDiffusionXLInputStep,
  StableDiffusionXLPrepareAdditionalConditioningStep,
  StableDiffusionXLPrepareLatentsStep,
  StableDiffusionXLSetTimestepsStep,
} from './sdxl-before-denoise.js';

// The guide's preset dicts of block classes (diffusers v0.35-v0.36). Copy
// before editing: `IMAGE2IMAGE_BLOCKS.copy()`.

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
