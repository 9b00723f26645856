/**
 * The option objects of pipelines, declared once each: the runtime key lists and the TypeScript types
 * come from these declarations (see util/closed-options.ts). To add an option, add its key here (and
 * read it where it is used): a key not declared here is refused at runtime with the nearest valid name.
 */
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ComponentsManager } from '../components/components-manager.js';
import type { ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { RepoResolver } from '../components/repo-resolver.js';
import { LOAD_COMPONENTS_OPTIONS, type LoadComponentsOptions } from '../components/component-load-options.js';
import type { Logger } from '../logger.js';
import type { ProgressEvent } from '../state/run-context.js';
import type { AbortSignalLike } from '../util/abort.js';
import { defineOptions, option, type OptionsOf } from '../util/closed-options.js';
import type { ModularPipeline } from './modular-pipeline.js';
import { FROM_PRETRAINED_OPTION_ALIASES } from '../compat/pipeline-options-compat.js';

export type PipelineConstructor<P extends ModularPipeline> = new (
  blocks: ModularPipelineBlocks,
  repo: string | null,
  options: InitPipelineOptions,
) => P;

export const INIT_PIPELINE_OPTIONS = defineOptions('initPipeline', {
  /** Shares loaded components across pipelines and tracks them for memory management. */
  componentsManager: option<ComponentsManager | null>(),
  /** The manager collection this pipeline's components are registered under. */
  collection: option<string | null>(),
  /** Loaders to use instead of the global `defaultLoaderRegistry`. */
  loaderRegistry: option<ComponentLoaderRegistry>(),
  /** Resolves repo locations for loaders (default: the one the hub package installs). */
  repoResolver: option<RepoResolver | null>(),
  /** The parsed `modular_model_index.json` to take component sources and config values from. */
  modelIndex: option<Record<string, unknown> | null>(),
  /** Dev/test mode: unexpected inputs, undeclared reads and lost writes throw. */
  strict: option<boolean>(),
  logger: option<Logger>(),
  /** Overrides the pipeline class chosen from the blocks' model name. */
  pipelineClass: option<PipelineConstructor<ModularPipeline>>(),
  /** Options every `loadComponents` call starts from, e.g. `{ device: 'cuda' }` from fromPretrained. */
  loadOptions: option<LoadComponentsOptions>(),
  /**
   * Largest run the pipeline starts, in bytes of the estimated working set (latents, decoded
   * images, VAE activations): a number, a size like '8GB', or `Infinity`. Default 4 GiB; `run`'s
   * `maxMemory` overrides it per run.
   */
  maxMemory: option<number | string>(),
});

export interface InitPipelineOptions extends OptionsOf<typeof INIT_PIPELINE_OPTIONS> {}

/** The object form of `trustRemoteCode`: trust, plus what to accept beyond the pinned code. */
export const TRUST_REMOTE_CODE_OPTIONS = defineOptions('trustRemoteCode', {
  /**
   * Accept this repo's code although it is not what the remote-code lock pinned (its revision now
   * resolves to another commit, or a pinned file changed), and pin what is loaded now. The CLI's
   * `--update-trust`. Never needed for a repo trusted for the first time.
   */
  update: option<boolean>(),
});

export interface TrustRemoteCodeOptions extends OptionsOf<typeof TRUST_REMOTE_CODE_OPTIONS> {}

/**
 * `true` (or an object) allows THIS repo's code to run in the sandbox, pinned in the remote-code
 * lock; it is never forwarded to component repos. A process-wide kill switch
 * (`MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE` / `DIFFUSERS_DISABLE_REMOTE_CODE`) overrides it.
 */
export type TrustRemoteCode = boolean | TrustRemoteCodeOptions;

/** One download progress event, as the hub package reports it (its `DownloadProgress`). */
export interface HubDownloadProgressLike {
  /** The file the event is about. */
  path: string;
  /** Bytes of it on disk so far (a resumed download starts above 0). */
  fileBytes: number;
  fileSize: number;
  /** Over every file the call transfers. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

/** How to reach the Hub; unset fields come from the environment (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE). */
const HUB_ACCESS = {
  hubUrl: option<string>(),
  accessToken: option<string>(),
  /** diffusers' name for `accessToken`. */
  token: option<string>(),
  cacheDir: option<string>(),
  /** Use only the cache (as `HF_HUB_OFFLINE=1`). */
  localFilesOnly: option<boolean>(),
  /** Download progress of component and code files. */
  onProgress: option<(progress: HubDownloadProgressLike) => void>(),
  /** Environment to read instead of `process.env` (tests). */
  env: option<Readonly<Record<string, string | undefined>>>(),
  /** A `fetch` for the Hub client (proxies, request logging). */
  fetch: option<typeof fetch>(),
};

const REMOTE_CODE = {
  /** Required to run code from a repo; without it the hub package refuses and says what would run. */
  trustRemoteCode: option<TrustRemoteCode>(),
  /** Branch, tag or commit; resolved to a commit before anything else is read. Default `main`. */
  revision: option<string | null>(),
  signal: option<AbortSignalLike>(),
};

export const PIPELINE_FROM_PRETRAINED_OPTIONS = INIT_PIPELINE_OPTIONS.omit('ModularPipeline.fromPretrained', 'repoResolver', 'modelIndex', 'loadOptions').extend(
  'ModularPipeline.fromPretrained',
  {
    ...REMOTE_CODE,
    ...HUB_ACCESS,
    /**
     * Let the repo's model index (and its blocks' specs) name local folders for components. Off by
     * default: a location from a repo is a Hub repo id, and a local path in it is refused.
     */
    allowLocalComponents: option<boolean>(),
    ...FROM_PRETRAINED_OPTION_ALIASES,
    /** Where components go when loaded (passed to every `loadComponents` call), e.g. 'cpu', 'cuda', 'auto'. */
    device: option<string>(),
    /**
     * Prune the repo's blocks to this workflow (`blocks.getWorkflow(workflow)`, diffusers' `workflow=`), so the
     * pipeline expects, and `loadComponents()` loads, only the components that workflow uses.
     */
    workflow: option<string>(),
  },
);

export interface PipelineFromPretrainedOptions extends OptionsOf<typeof PIPELINE_FROM_PRETRAINED_OPTIONS> {}

/**
 * The blocks load through the same gate as a pipeline, so they take the same options (a caller may
 * hand one options object to both), plus the blocks' folder in the repo.
 */
export const BLOCKS_FROM_PRETRAINED_OPTIONS = PIPELINE_FROM_PRETRAINED_OPTIONS.extend('ModularPipelineBlocks.fromPretrained', {
  subfolder: option<string | null>(),
});

export interface BlocksFromPretrainedOptions extends OptionsOf<typeof BLOCKS_FROM_PRETRAINED_OPTIONS> {}

export const RUN_OPTIONS = defineOptions('pipeline.run', {
  signal: option<AbortSignalLike>(),
  /** Called after every loop iteration (each denoise step). */
  onProgress: option<(event: ProgressEvent) => void>(),
  /** Overrides the pipeline's strict setting for this run. */
  strict: option<boolean>(),
  /** Overrides the pipeline's `maxMemory` for this run (bytes, '24GB' or Infinity). */
  maxMemory: option<number | string>(),
});

export interface RunOptions extends OptionsOf<typeof RUN_OPTIONS> {}

export const SAVE_PRETRAINED_OPTIONS = defineOptions('savePretrained', {
  /** After writing the folder, upload it to `repoId` on the Hub in one commit (creating the repo if needed). */
  pushToHub: option<boolean>(),
  repoId: option<string>(),
  private: option<boolean>(),
  /** A write token for the push (default: HF_TOKEN / the token file). */
  token: option<string>(),
  hubUrl: option<string>(),
  commitMessage: option<string>(),
  signal: option<AbortSignalLike>(),
  /**
   * Python requirements (PEP 440) to record as `requirements` in `modular_config.json`, merged over the
   * blocks' own (`static requirements`) and those of the bundle the blocks came from.
   */
  requirements: option<Record<string, string>>(),
  /** npm requirements (semver ranges) to record as `npm_requirements`, merged the same way. */
  npmRequirements: option<Record<string, string>>(),
  /**
   * Pipeline saves: point every component entry of `modular_model_index.json` at the saved folder
   * (or `repoId` when pushing), `subfolder: <name>`, writing each component that can save itself
   * there (diffusers' `overwrite_modular_index=True`). Without it only components of unknown origin
   * (no load id, e.g. swapped in by `updateComponents`) are written and pointed there.
   */
  overwriteModularIndex: option<boolean>(),
  /** The plugin bundle to upload with the blocks (what `modular publish` passes). */
  bundle: option<{ file?: string; source: string | Uint8Array; exportName: string }>(),
  /** Write `README.md` (default true). */
  modelCard: option<boolean>(),
  env: HUB_ACCESS.env,
  fetch: HUB_ACCESS.fetch,
});

export interface SavePretrainedOptions extends OptionsOf<typeof SAVE_PRETRAINED_OPTIONS> {}

export { LOAD_COMPONENTS_OPTIONS };

/**
 * `pipeline.loadLoraWeights(repoOrPath, options)` (diffusers' `load_lora_weights`): which file of a
 * repo or folder, and the name the adapter goes by.
 */
export const LOAD_LORA_WEIGHTS_OPTIONS = defineOptions('loadLoraWeights', {
  /** The safetensors file in the repo or folder (default `pytorch_lora_weights.safetensors`, or its only safetensors file). */
  weightName: option<string | null>(),
  /** The name for setAdapters / deleteAdapters (default `default_<n>`, as diffusers names them). */
  adapterName: option<string | null>(),
  subfolder: option<string | null>(),
  revision: option<string | null>(),
  signal: option<AbortSignalLike>(),
});

export interface LoadLoraWeightsOptions extends OptionsOf<typeof LOAD_LORA_WEIGHTS_OPTIONS> {}

/** `pipeline.fuseLora(options)` (diffusers' `fuse_lora`). */
export const FUSE_LORA_OPTIONS = defineOptions('fuseLora', {
  /** Multiplies the active adapters' scales (default 1), as diffusers' fuse_lora does. */
  loraScale: option<number>(),
  /** Mark only these of the active adapters fused (default: all active ones). */
  adapterNames: option<readonly string[] | null>(),
  /** The models to fuse into (default unet, text_encoder, text_encoder_2). */
  components: option<readonly string[]>(),
  /** Refuse fused weights that are not finite (a broken LoRA) instead of building them. */
  safeFusing: option<boolean>(),
  signal: option<AbortSignalLike>(),
});

export interface FuseLoraOptions extends OptionsOf<typeof FUSE_LORA_OPTIONS> {}

/** `pipeline.unfuseLora(options)` (diffusers' `unfuse_lora`). */
export const UNFUSE_LORA_OPTIONS = defineOptions('unfuseLora', {
  /** The models to unfuse (default unet, text_encoder, text_encoder_2). */
  components: option<readonly string[]>(),
  signal: option<AbortSignalLike>(),
});

export interface UnfuseLoraOptions extends OptionsOf<typeof UNFUSE_LORA_OPTIONS> {}
