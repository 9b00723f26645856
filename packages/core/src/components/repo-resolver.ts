import type { AbortSignalLike } from '../util/abort.js';

/** Where a component lives: a repo id or a local folder, plus the loading fields. */
export interface RepoLocation {
  repo: string;
  subfolder: string | null;
  revision: string | null;
  variant: string | null;
}

/** What a resolver hands to loaders: a local folder holding that location's files. */
export interface ResolvedLocation extends RepoLocation {
  /** Local directory of `repo/subfolder` (already downloaded when it came from the Hub). */
  path: string;
  /** The commit the files were pinned to, when known. */
  commit?: string | null;
}

/**
 * Turns repo locations into something loaders can open. The hub package
 * provides one (download into the HF cache); core only defines the contract.
 */
export interface RepoResolver {
  resolve(location: RepoLocation, options?: { signal?: AbortSignalLike }): Promise<ResolvedLocation>;
  /**
   * The local path of one file of a location (`<subfolder>/<file>`), fetching only that file:
   * adapter loaders read one weights file from a folder that holds many (h94/IP-Adapter's
   * `sdxl_models` has every adapter, each with its .bin twin). Without it, they resolve the folder.
   */
  resolveFile?(location: RepoLocation, file: string, options?: { signal?: AbortSignalLike }): Promise<string>;
  /**
   * Whether the location holds any file, without downloading it. Pipelines
   * ask before loading a component the repo's index does not list (an
   * optional one such as `controlnet`): a repo without its folder just
   * does not have it.
   */
  exists?(location: RepoLocation, options?: { signal?: AbortSignalLike }): Promise<boolean>;
  /**
   * The parsed `modular_model_index.json` (or a standard `model_index.json`)
   * of a repo, or null when it has neither.
   */
  readModelIndex?(
    repo: string,
    options?: { revision?: string | null; signal?: AbortSignalLike },
  ): Promise<Record<string, unknown> | null>;
}

let defaultResolver: RepoResolver | null = null;

/** Installs the resolver pipelines use when none is passed (the hub package calls this). */
export function setDefaultRepoResolver(resolver: RepoResolver | null): RepoResolver | null {
  const previous = defaultResolver;
  defaultResolver = resolver;
  return previous;
}

export function getDefaultRepoResolver(): RepoResolver | null {
  return defaultResolver;
}
