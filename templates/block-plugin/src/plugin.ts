/**
 * The bundle entry `modular build` compiles for the Hub: every export here
 * can be named by a repo's `auto_map`. `@modular-diffusers/*` imports are
 * provided by the sandbox that runs the bundle, not bundled.
 */
export { BlockPluginPromptStyleStep } from './prompt-style-step.js';
export { BLOCK_PLUGIN_BLOCKS, BlockPluginBlocks } from './presets.js';
export { BlockPluginBlocks as default } from './presets.js';
