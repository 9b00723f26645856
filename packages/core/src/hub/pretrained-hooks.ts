import { HubNotInstalledError } from '../errors.js';
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ModularPipeline, InitPipelineOptions } from '../pipeline/modular-pipeline.js';
import type { AbortSignalLike } from '../util/abort.js';

export interface BlocksFromPretrainedOptions {
  /** Required to run code from a repo; without it the hub package refuses and says what would run. */
  trustRemoteCode?: boolean;
  revision?: string | null;
  subfolder?: string | null;
  signal?: AbortSignalLike;
  [option: string]: unknown;
}

export interface PipelineFromPretrainedOptions extends InitPipelineOptions {
  trustRemoteCode?: boolean;
  revision?: string | null;
  signal?: AbortSignalLike;
  [option: string]: unknown;
}

/**
 * How `fromPretrained` is implemented. Core has no network access; the hub
 * package installs these when it is imported.
 */
export interface PretrainedHooks {
  blocksFromPretrained(repo: string, options: BlocksFromPretrainedOptions): Promise<ModularPipelineBlocks>;
  pipelineFromPretrained(repo: string, options: PipelineFromPretrainedOptions): Promise<ModularPipeline>;
}

let installed: PretrainedHooks | null = null;

/** Installs the fromPretrained implementation; returns the previous one. */
export function setPretrainedHooks(hooks: PretrainedHooks | null): PretrainedHooks | null {
  const previous = installed;
  installed = hooks;
  return previous;
}

/** The installed hooks, or a HubNotInstalledError naming `what` was called. */
export function getPretrainedHooks(what: string): PretrainedHooks {
  if (!installed) throw new HubNotInstalledError(what);
  return installed;
}
