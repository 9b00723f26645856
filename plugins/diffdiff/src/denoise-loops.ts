/**
 * The diff-diff denoise loops: SDXL's loop wrapper with the diff-diff
 * before-denoiser step, over the plain UNet (`SDXLDiffDiffDenoiseLoop`) or
 * the ControlNet UNet (`SDXLDiffDiffControlNetDenoiseLoop`). Differential
 * diffusion only changes the step before the denoiser, ControlNet only the
 * denoiser, so the two combine without touching each other.
 */
import {
  StableDiffusionXLControlNetLoopDenoiser,
  StableDiffusionXLDenoiseLoopWrapper,
  StableDiffusionXLLoopAfterDenoiser,
  StableDiffusionXLLoopDenoiser,
} from '@modular-diffusers/sdxl/blocks';
import { SDXLDiffDiffLoopBeforeDenoiser } from './loop-before-denoiser.js';

const LOOP_BODY_NAMES = ['before_denoiser', 'denoiser', 'after_denoiser'] as const;

export class SDXLDiffDiffDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [SDXLDiffDiffLoopBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = LOOP_BODY_NAMES;
}

export class SDXLDiffDiffControlNetDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = [SDXLDiffDiffLoopBeforeDenoiser, StableDiffusionXLControlNetLoopDenoiser, StableDiffusionXLLoopAfterDenoiser];
  static override blockNames = LOOP_BODY_NAMES;
}
