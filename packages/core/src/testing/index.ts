// Toy SDXL-like blocks and components for tests and the demo: the guide's
// block names, declarations and printouts, with number arithmetic instead of
// models. Import from '@modular-diffusers/core/testing'; not part of the engine API.

export * from './toy-components.js';
export * from './sdxl-encoders.js';
export * from './sdxl-before-denoise.js';
export * from './sdxl-denoise.js';
export * from './sdxl-decoders.js';
export * from './sdxl-presets.js';
export * from './diffdiff.js';
export * from './guide-printouts.js';
