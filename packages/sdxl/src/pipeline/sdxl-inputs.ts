/**
 * The run inputs an SDXL pipeline type-checks, inferred from what its blocks declare: every input
 * name any SDXL leaf block reads, typed as the union of what those blocks accept. A name no SDXL
 * block declares (a plugin's `diffdiff_map`) is still allowed by `run`.
 */
import type { InputsOf } from '@modular-diffusers/core';
import type { StableDiffusionXLControlNetInputStep } from '../controlnet/controlnet-input-step.js';
import type { StableDiffusionXLControlNetUnionInputStep } from '../controlnet/controlnet-union-input-step.js';
import type { StableDiffusionXLDecodeStep } from '../decoders/decode-step.js';
import type { StableDiffusionXLInpaintOverlayMaskStep } from '../decoders/inpaint-overlay-mask-step.js';
import type { StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep } from '../before-denoise/img2img-prepare-additional-conditioning-step.js';
import type { StableDiffusionXLImg2ImgPrepareLatentsStep } from '../before-denoise/img2img-prepare-latents-step.js';
import type { StableDiffusionXLImg2ImgSetTimestepsStep } from '../before-denoise/img2img-set-timesteps-step.js';
import type { StableDiffusionXLInpaintPrepareLatentsStep } from '../before-denoise/inpaint-prepare-latents-step.js';
import type { StableDiffusionXLInputStep } from '../before-denoise/input-step.js';
import type { StableDiffusionXLPrepareAdditionalConditioningStep } from '../before-denoise/prepare-additional-conditioning-step.js';
import type { StableDiffusionXLPrepareLatentsStep } from '../before-denoise/prepare-latents-step.js';
import type { StableDiffusionXLSetTimestepsStep } from '../before-denoise/set-timesteps-step.js';
import type { StableDiffusionXLControlNetLoopDenoiser } from '../denoise/controlnet-loop-denoiser.js';
import type { StableDiffusionXLInpaintLoopAfterDenoiser } from '../denoise/inpaint-loop-after-denoiser.js';
import type { StableDiffusionXLInpaintLoopBeforeDenoiser } from '../denoise/inpaint-loop-before-denoiser.js';
import type { StableDiffusionXLLoopAfterDenoiser } from '../denoise/loop-after-denoiser.js';
import type { StableDiffusionXLLoopBeforeDenoiser } from '../denoise/loop-before-denoiser.js';
import type { StableDiffusionXLLoopDenoiser } from '../denoise/loop-denoiser.js';
import type { StableDiffusionXLInpaintVaeEncoderStep } from '../encoders/inpaint-vae-encoder-step.js';
import type { StableDiffusionXLTextEncoderStep } from '../encoders/text-encoder-step.js';
import type { StableDiffusionXLVaeEncoderStep } from '../encoders/vae-encoder-step.js';
import type { StableDiffusionXLIPAdapterStep } from '../ip-adapter/ip-adapter-step.js';

/** The declared inputs of a typed block class. */
type InputsOfBlock<C> = C extends abstract new () => { readonly spec: infer S extends object } ? InputsOf<S> : never;

type SdxlLeafInputs =
  | InputsOfBlock<typeof StableDiffusionXLTextEncoderStep>
  | InputsOfBlock<typeof StableDiffusionXLVaeEncoderStep>
  | InputsOfBlock<typeof StableDiffusionXLInpaintVaeEncoderStep>
  | InputsOfBlock<typeof StableDiffusionXLIPAdapterStep>
  | InputsOfBlock<typeof StableDiffusionXLInputStep>
  | InputsOfBlock<typeof StableDiffusionXLSetTimestepsStep>
  | InputsOfBlock<typeof StableDiffusionXLImg2ImgSetTimestepsStep>
  | InputsOfBlock<typeof StableDiffusionXLPrepareLatentsStep>
  | InputsOfBlock<typeof StableDiffusionXLImg2ImgPrepareLatentsStep>
  | InputsOfBlock<typeof StableDiffusionXLInpaintPrepareLatentsStep>
  | InputsOfBlock<typeof StableDiffusionXLPrepareAdditionalConditioningStep>
  | InputsOfBlock<typeof StableDiffusionXLImg2ImgPrepareAdditionalConditioningStep>
  | InputsOfBlock<typeof StableDiffusionXLControlNetInputStep>
  | InputsOfBlock<typeof StableDiffusionXLControlNetUnionInputStep>
  | InputsOfBlock<typeof StableDiffusionXLLoopBeforeDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLInpaintLoopBeforeDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLLoopDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLControlNetLoopDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLLoopAfterDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLInpaintLoopAfterDenoiser>
  | InputsOfBlock<typeof StableDiffusionXLDecodeStep>
  | InputsOfBlock<typeof StableDiffusionXLInpaintOverlayMaskStep>;

type KeysOfAny<U> = U extends unknown ? keyof U : never;
type ValueIn<U, K extends PropertyKey> = U extends { readonly [P in K]: infer V } ? V : never;

/** Every input an SDXL block reads, typed as what the blocks that read it accept. */
export type SdxlPipelineInputs = { readonly [K in KeysOfAny<SdxlLeafInputs>]?: ValueIn<SdxlLeafInputs, K> };
