import { HubNotInstalledError } from '../errors.js';
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ModularPipeline, InitPipelineOptions } from '../pipeline/modular-pipeline.js';
import type { AbortSignalLike } from '../util/abort.js';

/** The object form of `trustRemoteCode`: trust, plus what to accept beyond the pinned code. */
export interface TrustRemoteCodeOptions {
  /**
   * Accept this repo's code although it is not what the remote-code lock pinned (its revision now
   * resolves to another commit, or a pinned file changed), and pin what is loaded now. The CLI's
   * `--update-trust`. Never needed for a repo trusted for the first time.
   */
  update?: boolean;
}

/**
 * `true` (or an object) allows THIS repo's code to run in the sandbox, pinned in the remote-code
 * lock; it is never forwarded to component repos. A process-wide kill switch
 * (`MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE` / `DIFFUSERS_DISABLE_REMOTE_CODE`) overrides it.
 */
export type TrustRemoteCode = boolean | TrustRemoteCodeOptions;

export interface BlocksFromPretrainedOptions {
  /** Required to run code from a repo; without it the hub package refuses and says what would run. */
  trustRemoteCode?: TrustRemoteCode;
  revision?: string | null;
  subfolder?: string | null;
  signal?: AbortSignalLike;
  [option: string]: unknown;
}

export interface PipelineFromPretrainedOptions extends InitPipelineOptions {
  /** Required to run code from a repo; without it the hub package refuses and says what would run. */
  trustRemoteCode?: TrustRemoteCode;
  /**
   * Let the repo's model index (and its blocks' specs) name local folders for components. Off by
   * default: a location from a repo is a Hub repo id, and a local path in it is refused.
   */
  allowLocalComponents?: boolean;
  revision?: string | null;
  signal?: AbortSignalLike;
  [option: string]: unknown;
}

export interface SavePretrainedOptions {
  /** After writing the folder, upload it to `repoId` on the Hub in one commit (creating the repo if needed). */
  pushToHub?: boolean;
  repoId?: string;
  private?: boolean;
  /** A write token for the push (default: HF_TOKEN / the token file). */
  token?: string;
  hubUrl?: string;
  commitMessage?: string;
  signal?: AbortSignalLike;
  [option: string]: unknown;
}

export interface SavePretrainedResult {
  /** The folder that was written. */
  dir: string;
  /** Repo-relative paths of the files written. */
  files: string[];
  /** Set when pushed: the repo's URL and the commit that holds the files. */
  repoUrl?: string;
  commit?: string;
}

/**
 * How `fromPretrained` is implemented. Core has no network access; the hub
 * package installs these when it is imported.
 */
export interface PretrainedHooks {
  blocksFromPretrained(repo: string, options: BlocksFromPretrainedOptions): Promise<ModularPipelineBlocks>;
  pipelineFromPretrained(repo: string, options: PipelineFromPretrainedOptions): Promise<ModularPipeline>;
  /** `pipeline.savePretrained(dir, options)`. */
  savePipeline?(pipeline: ModularPipeline, dir: string, options: SavePretrainedOptions): Promise<SavePretrainedResult>;
  /** `blocks.savePretrained(dir, options)`. */
  saveBlocks?(blocks: ModularPipelineBlocks, dir: string, options: SavePretrainedOptions): Promise<SavePretrainedResult>;
}

let installed: PretrainedHooks | null = null;

/** Installs the fromPretrained implementation; returns the previous one. */
export function setPretrainedHooks(hooks: PretrainedHooks | null): PretrainedHooks | null {
  const previous = installed;
  installed = hooks;
  return previous;
}

/** The installed hook `name`, or a HubNotInstalledError naming `what` was called. */
export function getPretrainedHook<K extends keyof PretrainedHooks>(name: K, what: string): NonNullable<PretrainedHooks[K]> {
  const hook = installed?.[name];
  if (!installed || !hook) throw new HubNotInstalledError(what);
  return (hook as (...args: never[]) => unknown).bind(installed) as NonNullable<PretrainedHooks[K]>;
}

/** The installed hooks, or a HubNotInstalledError naming `what` was called. */
export function getPretrainedHooks(what: string): PretrainedHooks {
  if (!installed) throw new HubNotInstalledError(what);
  return installed;
}
