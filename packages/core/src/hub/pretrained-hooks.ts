import { HubNotInstalledError } from '../errors.js';
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ModularPipeline } from '../pipeline/modular-pipeline.js';
import type {
  BlocksFromPretrainedOptions,
  PipelineFromPretrainedOptions,
  SavePretrainedOptions,
} from '../pipeline/pipeline-options.js';

export type {
  BlocksFromPretrainedOptions,
  PipelineFromPretrainedOptions,
  SavePretrainedOptions,
  TrustRemoteCode,
  TrustRemoteCodeOptions,
} from '../pipeline/pipeline-options.js';

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
