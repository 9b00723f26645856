import type { DownloadProgress, FetchRepoFilesOptions } from '../cache/fetch-repo-files.js';
import type { HubEnv } from '../config/hub-config.js';

/**
 * How to reach the Hub for one load. Unset fields come from the environment
 * (`HF_ENDPOINT`, `HF_TOKEN` and the token file, `HF_HUB_CACHE`/`HF_HOME`,
 * `HF_HUB_OFFLINE`) through `resolveHubConfig`.
 */
export interface HubAccessOptions {
  hubUrl?: string;
  accessToken?: string;
  cacheDir?: string;
  /** Use only the cache (as `HF_HUB_OFFLINE=1`). */
  localFilesOnly?: boolean;
  /** Download progress of component and code files. */
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Environment to read instead of `process.env` (tests). */
  env?: HubEnv;
  /** A `fetch` for the client (proxies, request logging). */
  fetch?: typeof fetch;
}

const KEYS = ['hubUrl', 'accessToken', 'cacheDir', 'localFilesOnly', 'onProgress', 'signal', 'env', 'fetch'] as const;

/** The hub access fields of a larger options object (e.g. fromPretrained's), leaving the rest. */
export function pickHubAccess(options: Record<string, unknown>): HubAccessOptions {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) if (options[key] !== undefined && options[key] !== null) out[key] = options[key];
  // `token` is diffusers' (and huggingface_hub's) name for the same thing.
  if (out.accessToken === undefined && typeof options.token === 'string') out.accessToken = options.token;
  if (out.onProgress === undefined && typeof options.progress === 'function') out.onProgress = options.progress;
  return out as HubAccessOptions;
}

/** The fetchRepoFiles fields of hub access options. */
export function fetchOptions(access: HubAccessOptions): Omit<FetchRepoFilesOptions, 'repo'> {
  return { ...access };
}
