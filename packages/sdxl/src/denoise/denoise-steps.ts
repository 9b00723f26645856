/**
 * The assembled SDXL denoise loops: the wrapper's loop logic with a body of
 * [before_denoiser, denoiser, after_denoiser]. `StableDiffusionXLDenoiseLoop`
 * is the name the developer guide prints for the text2img/img2img loop;
 * `StableDiffusionXLDenoiseStep` is diffusers' later name for the same loop.
 */
import { StableDiffusionXLControlNetLoopDenoiser } from './controlnet-loop-denoiser.js';
import { StableDiffusionXLDenoiseLoopWrapper } from './denoise-loop-wrapper.js';
import { StableDiffusionXLInpaintLoopAfterDenoiser } from './inpaint-loop-after-denoiser.js';
import { StableDiffusionXLInpaintLoopBeforeDenoiser } from './inpaint-loop-before-denoiser.js';
import { StableDiffusionXLLoopAfterDenoiser } from './loop-after-denoiser.js';
import { StableDiffusionXLLoopBeforeDenoiser } from './loop-before-denoiser.js';
import { StableDiffusionXLLoopDenoiser } from './loop-denoiser.js';

const LOOP_BODY_NAMES = ['before_denoiser', 'denoiser', 'after_denoiser'] as const;

/**
 * The description the guide prints: the loop body's classes, one per line.
 * Names are spelled out rather than read from the classes, which a bundler
 * may rename.
 */
function loopDescription(intro: string, body: readonly string[], closing = ''): string {
  return (
    `${intro} \n` +
    'Its loop logic is defined in `StableDiffusionXLDenoiseLoopWrapper.__call__` method \n' +
    'At each iteration, it runs blocks defined in `blocks` sequencially:\n' +
    body.map((name) => ` - \`${name}\`\n`).join('') +
    closing
  );
}

const BEFORE = 'StableDiffusionXLLoopBeforeDenoiser';
const INPAINT_BEFORE = 'StableDiffusionXLInpaintLoopBeforeDenoiser';
const DENOISER = 'StableDiffusionXLLoopDenoiser';
const CONTROLNET_DENOISER = 'StableDiffusionXLControlNetLoopDenoiser';
const AFTER = 'StableDiffusionXLLoopAfterDenoiser';
const INPAINT_AFTER = 'StableDiffusionXLInpaintLoopAfterDenoiser';

const DENOISE_BODY = [StableDiffusionXLLoopBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLLoopAfterDenoiser] as const;
const CONTROLNET_BODY = [StableDiffusionXLLoopBeforeDenoiser, StableDiffusionXLControlNetLoopDenoiser, StableDiffusionXLLoopAfterDenoiser] as const;
const INPAINT_BODY = [StableDiffusionXLInpaintLoopBeforeDenoiser, StableDiffusionXLLoopDenoiser, StableDiffusionXLInpaintLoopAfterDenoiser] as const;
const INPAINT_CONTROLNET_BODY = [
  StableDiffusionXLInpaintLoopBeforeDenoiser,
  StableDiffusionXLControlNetLoopDenoiser,
  StableDiffusionXLInpaintLoopAfterDenoiser,
] as const;

/** text2img / img2img denoise loop, as the developer guide names and prints it. */
export class StableDiffusionXLDenoiseLoop extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = DENOISE_BODY;
  static override blockNames = LOOP_BODY_NAMES;

  override get description() {
    return loopDescription('Denoise step that iteratively denoise the latents.', [BEFORE, DENOISER, AFTER]);
  }
}

/** text2img / img2img denoise loop (diffusers' name in its block presets). */
export class StableDiffusionXLDenoiseStep extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = DENOISE_BODY;
  static override blockNames = LOOP_BODY_NAMES;

  override get description() {
    return loopDescription('Denoise step that iteratively denoise the latents.', [BEFORE, DENOISER, AFTER], 'This block supports both text2img and img2img tasks.');
  }
}

export class StableDiffusionXLControlNetDenoiseStep extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = CONTROLNET_BODY;
  static override blockNames = LOOP_BODY_NAMES;

  override get description() {
    return loopDescription(
      'Denoise step that iteratively denoise the latents with controlnet.',
      [BEFORE, CONTROLNET_DENOISER, AFTER],
      'This block supports using controlnet for both text2img and img2img tasks.',
    );
  }
}

export class StableDiffusionXLInpaintDenoiseStep extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = INPAINT_BODY;
  static override blockNames = LOOP_BODY_NAMES;

  override get description() {
    return loopDescription('Denoise step that iteratively denoise the latents(for inpainting task only).', [INPAINT_BEFORE, DENOISER, INPAINT_AFTER], 'This block only supports inpainting tasks.');
  }
}

export class StableDiffusionXLInpaintControlNetDenoiseStep extends StableDiffusionXLDenoiseLoopWrapper {
  static override blockClasses = INPAINT_CONTROLNET_BODY;
  static override blockNames = LOOP_BODY_NAMES;

  override get description() {
    return loopDescription(
      'Denoise step that iteratively denoise the latents(for inpainting task only) with controlnet.',
      [INPAINT_BEFORE, CONTROLNET_DENOISER, INPAINT_AFTER],
      'This block only supports using controlnet for inpainting tasks.',
    );
  }
}

/** The guide's name for the ControlNet loop. */
export { StableDiffusionXLControlNetDenoiseStep as StableDiffusionXLControlNetDenoiseLoop };
/** The guide's spelling of the after-denoiser step in its ControlNet section. */
export { StableDiffusionXLLoopAfterDenoiser as StableDiffusionXLDenoiseLoopAfterDenoiser };
