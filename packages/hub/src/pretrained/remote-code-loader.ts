import type {
  ComponentLoaderRegistry,
  ComponentsManager,
  ModularPipeline,
  ModularPipelineBlocks,
  PipelineFromPretrainedOptions,
  RepoResolver,
} from '@modular-diffusers/core';
import type { AbortSignalLike } from '@modular-diffusers/core';
import type { ModularConfig } from './modular-config.js';

/**
 * Everything the gate has checked before a repo's code may run. By the time a
 * loader receives it: the caller trusted THIS repo (`trustRemoteCode`), the
 * kill switch is off in the process environment, the bundle's sha256 matched the
 * one declared in `modular_config.json` (when declared), the commit and the
 * hashes of the bundle, config and index matched the remote-code lock (or the
 * caller accepted the change), and the pin was recorded.
 */
export interface RemoteCodeRequest {
  /** What the caller asked for: a pipeline (`ModularPipeline.fromPretrained`) or blocks only. */
  target: 'pipeline' | 'blocks';
  /** The repo id (or local folder) as the caller gave it. */
  repo: string;
  /** The commit the files were resolved to; null for a local folder (no commit). */
  commit: string | null;
  /** Local folder holding the repo's snapshot (modular_config.json, the bundle, the index). */
  snapshotDir: string;
  /** The bundle's path inside the repo, e.g. `block.js`. */
  bundleFile: string;
  /** Absolute path of the bundle in the snapshot (informational: run `bundleSource`, not a re-read). */
  bundlePath: string;
  /** sha256 (hex) of `bundleSource`, the value that was pinned. */
  bundleSha256: string;
  /**
   * The bundle's text exactly as hashed. Evaluate THIS string: reading the
   * file again would open a window for it to change after the check.
   */
  bundleSource: string;
  /** The export of the bundle that `auto_map` names (e.g. `DiffDiffBlocks`). */
  exportName: string;
  /** The parsed `modular_config.json`. */
  modularConfig: ModularConfig;
  /** The parsed `modular_model_index.json` / `model_index.json` of the repo, or null when it has none. */
  modelIndex: Record<string, unknown> | null;
  /**
   * Resolver for component repos. It carries the caller's Hub settings but
   * never the trust flag: components named by the index load as data only.
   */
  resolver: RepoResolver;
  /** Options for the pipeline the loader builds (what `initPipeline` takes). */
  init: {
    componentsManager: ComponentsManager | null;
    collection: string | null;
    loaderRegistry?: ComponentLoaderRegistry;
    device?: unknown;
    maxMemory?: number | string;
  };
  /** The caller's fromPretrained options (hub credentials included), with `trustRemoteCode` set to false: trust was consumed by the gate and must not reach any other repo. */
  options: PipelineFromPretrainedOptions;
  signal?: AbortSignalLike;
}

/**
 * Runs a trusted repo's bundle (in the sandbox) and gives back something the
 * caller can use. Implemented by `@modular-diffusers/sandbox` and installed by its
 * `installSandbox()`; tests may install their own.
 */
export interface RemoteCodeLoader {
  /** A lazy pipeline (no weights loaded until `loadComponents`) built from the trusted bundle. */
  loadPipeline(request: RemoteCodeRequest): Promise<ModularPipeline>;
  /**
   * The bundle's blocks alone, for `ModularPipelineBlocks.fromPretrained`.
   * Optional: without it, loading blocks from a repo with code fails with a
   * clear error pointing at `ModularPipeline.fromPretrained`.
   */
  loadBlocks?(request: RemoteCodeRequest): Promise<ModularPipelineBlocks>;
}

let installed: RemoteCodeLoader | null = null;

/** Installs the loader trusted bundles are handed to; returns the previous one (null uninstalls). */
export function setRemoteCodeLoader(loader: RemoteCodeLoader | null): RemoteCodeLoader | null {
  const previous = installed;
  installed = loader;
  return previous;
}

/** The installed loader, or null when none is (a trusted load then fails with RemoteCodeLoaderMissingError). */
export function getRemoteCodeLoader(): RemoteCodeLoader | null {
  return installed;
}
