// Differential diffusion for SDXL, the developer guide's worked example as a
// community plugin: the diff-diff blocks, their presets and a named blocks
// class for a Hub repo's auto_map.

export * from './errors.js';
export * from './params.js';
export * from './change-map-masks.js';
export * from './noised-original-latents.js';
export * from './prepare-latents-step.js';
export * from './loop-before-denoiser.js';
export * from './denoise-loops.js';
export * from './auto-denoise-step.js';
export * from './presets.js';
export * from './diffdiff-blocks.js';
