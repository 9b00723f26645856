/**
 * The bundle entry `modular build` compiles for the Hub: the blocks classes
 * and presets a repo's `auto_map` (or a user) can name. The bundler wraps
 * these exports into the sandbox's `defineBlocks`; the engine and SDXL
 * packages are the sandbox's own libraries, not bundled.
 */
import { SDXLDiffDiffAutoDenoiseStep } from './auto-denoise-step.js';
import { SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop } from './denoise-loops.js';
import { SDXLDiffDiffBlocks } from './diffdiff-blocks.js';
import { SDXLDiffDiffLoopBeforeDenoiser } from './loop-before-denoiser.js';
import { SDXLDiffDiffPrepareLatentsStep } from './prepare-latents-step.js';
import { DIFFDIFF_AUTO_BLOCKS, DIFFDIFF_BLOCKS } from './presets.js';

export {
  SDXLDiffDiffBlocks,
  SDXLDiffDiffPrepareLatentsStep,
  SDXLDiffDiffLoopBeforeDenoiser,
  SDXLDiffDiffDenoiseLoop,
  SDXLDiffDiffControlNetDenoiseLoop,
  SDXLDiffDiffAutoDenoiseStep,
  DIFFDIFF_BLOCKS,
  DIFFDIFF_AUTO_BLOCKS,
};

/** The class a repo's auto_map names by default: the whole workflow, with IP-Adapter and ControlNet. */
export default SDXLDiffDiffBlocks;
