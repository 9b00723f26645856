/**
 * The options of loadSingleFile and StableDiffusionXLModularPipeline.fromSingleFile, declared once
 * (core's closed options): a misspelt key is an error naming the nearest declared one.
 */
import { defineOptions, option, type InitPipelineOptions, type ModularPipelineBlocks, type OptionsOf } from '@modular-diffusers/core';
import type { Device, LoadOnnxModelOptions } from '@modular-diffusers/runtime';

export const LOAD_SINGLE_FILE_OPTIONS = defineOptions('loadSingleFile', {
  /**
   * A repo id or local folder in diffusers' layout whose configs and tokenizers describe the checkpoint
   * (diffusers' `config`); default: stabilityai/stable-diffusion-xl-base-1.0 for an SDXL base checkpoint.
   */
  config: option<string | null>(),
  /** The config repo's revision. */
  revision: option<string | null>(),
  /** Where the sessions run: 'cpu', 'cuda', 'webgpu' or 'auto'. */
  device: option<Device>(),
  sessionOptions: option<LoadOnnxModelOptions['sessionOptions']>(),
  /** Where built graphs are cached (default `<modularDiffusersHome()>/built-graphs`). */
  cacheDir: option<string>(),
  signal: option<AbortSignal>(),
});

export interface LoadSingleFileOptions extends OptionsOf<typeof LOAD_SINGLE_FILE_OPTIONS> {}

export const FROM_SINGLE_FILE_OPTIONS = LOAD_SINGLE_FILE_OPTIONS.extend('StableDiffusionXLModularPipeline.fromSingleFile', {
  /** The blocks to run (default: the blocks registered for 'stable-diffusion-xl', StableDiffusionXLAutoBlocks). */
  blocks: option<ModularPipelineBlocks>(),
  /** Passed to `blocks.initPipeline` (repoResolver, componentsManager, logger, ...). */
  initOptions: option<Omit<InitPipelineOptions, 'pipelineClass'>>(),
});

export interface FromSingleFileOptions extends OptionsOf<typeof FROM_SINGLE_FILE_OPTIONS> {}
