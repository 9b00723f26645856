/**
 * The options of `pipeline.loadComponents` (and `loadDefaultComponents`), declared once: the runtime
 * key list and the TypeScript type come from here (see util/closed-options.ts). Loader options
 * (`dtype`, `device`, ...) go to every loader; a custom loader's own settings travel in
 * `loaderOptions`. To add an option, declare it here and read it in the loader that uses it.
 */
import type { Logger } from '../logger.js';
import type { AbortSignalLike } from '../util/abort.js';
import type { ComponentLoaderRegistry } from './loader-registry.js';
import type { RepoResolver } from './repo-resolver.js';
import { defineOptions, option, type OptionsOf } from '../util/closed-options.js';

/** What every loader may be given; these are what `perComponent` entries may hold too. */
export const COMPONENT_LOADER_OPTIONS = defineOptions('loadComponents perComponent entry', {
  /** Where the sessions run: 'cpu', 'cuda', 'webgpu' or 'auto' (CUDA, then WebGPU, then CPU). */
  device: option<string>(),
  /** Precision asked for: an ONNX export's is fixed, so a mismatch is reported (use `variant: 'fp16'`). */
  dtype: option<string>(),
  /** diffusers' `torch_dtype`, the same as `dtype`. */
  torchDtype: option<string>(),
  /** onnxruntime session options (the execution providers come from `device`). */
  sessionOptions: option<Record<string, unknown>>(),
  /** Where to load from instead of the spec's repo (alias `pretrainedModelNameOrPath`). */
  repo: option<string | null>(),
  pretrainedModelNameOrPath: option<string | null>(),
  subfolder: option<string | null>(),
  variant: option<string | null>(),
  revision: option<string | null>(),
  /** The model file in the folder (default `model.onnx`, or `model.<variant>.onnx`); alias `weightName`. */
  fileName: option<string>(),
  weightName: option<string>(),
  /** The VAE's encoder/decoder folders and files when they are not `vae_encoder` / `vae_decoder`. */
  encoderSubfolder: option<string>(),
  decoderSubfolder: option<string>(),
  encoderFileName: option<string>(),
  decoderFileName: option<string>(),
  /**
   * For a folder holding both an ONNX export and diffusers safetensors: 'auto' (default) takes the
   * export, 'onnx' requires it, 'safetensors' builds the graph from the weights (model builder).
   */
  modelSource: option<'auto' | 'onnx' | 'safetensors'>(),
  /** Build the UNet with ControlNet residual inputs (fed zeros when no ControlNet runs). */
  controlNetResiduals: option<boolean>(),
  /**
   * Build the UNet with the IP-Adapter in this local safetensors file (its image projection and
   * image key/value attention; inputs `image_embeds` and `ip_adapter_scale`). Set by
   * `pipeline.loader.loadIpAdapter`, which resolves and checks the file first.
   */
  ipAdapterWeights: option<string>(),
  /** Settings for a custom loader that the engine does not know, handed to it as they are. */
  loaderOptions: option<Record<string, unknown>>(),
});

export interface ComponentLoaderOptions extends OptionsOf<typeof COMPONENT_LOADER_OPTIONS> {}

export const LOAD_COMPONENTS_OPTIONS = COMPONENT_LOADER_OPTIONS.extend('pipeline.loadComponents', {
  signal: option<AbortSignalLike>(),
  /**
   * Options for single components, merged over the shared ones: `{ unet: { dtype: 'float16' } }`.
   * A per-component `device` also pins it in the components manager: `{ vae: { device: 'cpu' } }`
   * keeps the VAE on CPU and outside a GPU memory budget.
   */
  perComponent: option<Record<string, ComponentLoaderOptions>>(),
  /** 'throw' (default) raises one ComponentLoadError after trying every component; 'warn' only logs. */
  onError: option<'throw' | 'warn'>(),
  /**
   * Load only the components that this workflow of the blocks uses (see `blocks.availableWorkflows`;
   * diffusers' `load_components(workflow=...)`); not together with names.
   */
  workflow: option<string>(),
});

export interface LoadComponentsOptions extends OptionsOf<typeof LOAD_COMPONENTS_OPTIONS> {}

/** `spec.load(options)`: the loader options, plus where loaders and repos come from. */
export const COMPONENT_SPEC_LOAD_OPTIONS = COMPONENT_LOADER_OPTIONS.extend('ComponentSpec.load', {
  registry: option<ComponentLoaderRegistry>(),
  resolver: option<RepoResolver | null>(),
  signal: option<AbortSignalLike>(),
  logger: option<Logger>(),
});

export interface ComponentSpecLoadOptions extends OptionsOf<typeof COMPONENT_SPEC_LOAD_OPTIONS> {}
