// The plugin's public API, for use as a regular package (tests, other plugins).
export * from './prompt-style-step.js';
export * from './presets.js';
