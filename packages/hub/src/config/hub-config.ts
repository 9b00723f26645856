import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandUserPath, modularDiffusersHome, resolveHfHome } from '@modular-diffusers/core';
import { HubConfigError } from './hub-config-error.js';

/** Environment variables as a plain object, so tests can pass their own instead of `process.env`. */
export type HubEnv = Readonly<Record<string, string | undefined>>;

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubConfigOptions {
  /** Variables to read instead of `process.env`. */
  env?: HubEnv;
  /** Overrides `HF_ENDPOINT`. */
  hubUrl?: string;
  /** Overrides `HF_TOKEN` and the token file. */
  accessToken?: string;
  /** Overrides `HF_HUB_CACHE`. */
  cacheDir?: string;
  /** Overrides `HF_HUB_OFFLINE` (an explicit `false` wins over the variable). */
  offline?: boolean;
}

/** Where a token came from, so an "unauthorized" error can say which one to fix. */
export type TokenSource = 'option' | 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'token-file' | 'none';

export interface HubConfig {
  /** Endpoint without a trailing slash (`@huggingface/hub` appends paths to it). */
  hubUrl: string;
  accessToken: string | undefined;
  tokenSource: TokenSource;
  /** The token file that was (or would have been) read. */
  tokenPath: string;
  /** `HF_HOME`: the root of Hugging Face's local files. */
  hfHome: string;
  /** `HF_HUB_CACHE`: where `models--org--name/{blobs,snapshots,refs}` live. */
  cacheDir: string;
  /**
   * `$HF_HOME/modular-diffusers`: this project's own files (listings, the remote-code lock, built
   * graphs), outside `cacheDir` so that Python's `scan_cache_dir` finds only its own layout there.
   * It follows `HF_HOME` (and `env`), not `cacheDir`: a test or tool that isolates the cache sets
   * `HF_HOME` (or `HOME`) in `env` too.
   */
  projectDir: string;
  offline: boolean;
}

/** Python's `huggingface_hub` reads booleans this way (`constants._is_true`). */
export function isTrueEnvValue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function expandHome(path: string, env: HubEnv): string {
  return expandUserPath(path, env);
}

function readTokenFile(path: string): string | undefined {
  try {
    return nonEmpty(readFileSync(path, 'utf8'));
  } catch (error) {
    // A missing token file is the normal anonymous case; anything else (a folder, no permission) is worth saying.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HubConfigError(`Cannot read the Hugging Face token file ${path}: ${(error as Error).message}. Fix its permissions, or set HF_TOKEN instead.`);
  }
}

/**
 * The Hub settings the way Python's `huggingface_hub` reads them from the
 * environment, with explicit options taking precedence:
 * - `HF_ENDPOINT` (default https://huggingface.co);
 * - token: `HF_TOKEN`, then the legacy `HUGGING_FACE_HUB_TOKEN`, then the file at
 *   `HF_TOKEN_PATH` (default `$HF_HOME/token`);
 * - `HF_HOME` (default `$XDG_CACHE_HOME/huggingface`, i.e. `~/.cache/huggingface`);
 * - cache: `HF_HUB_CACHE`, then the legacy `HUGGINGFACE_HUB_CACHE`, then `$HF_HOME/hub`;
 * - `HF_HUB_OFFLINE` true for 1/true/yes/on in any case.
 */
export function resolveHubConfig(options: HubConfigOptions = {}): HubConfig {
  const env = options.env ?? process.env;
  const hfHome = resolveHfHome(env);
  const cacheSetting = nonEmpty(options.cacheDir) ?? nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  const cacheDir = cacheSetting ? expandHome(cacheSetting, env) : join(hfHome, 'hub');
  const tokenPath = expandHome(nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome, 'token'), env);

  let accessToken: string | undefined;
  let tokenSource: TokenSource = 'none';
  if (nonEmpty(options.accessToken)) {
    accessToken = nonEmpty(options.accessToken);
    tokenSource = 'option';
  } else if (nonEmpty(env.HF_TOKEN)) {
    accessToken = nonEmpty(env.HF_TOKEN);
    tokenSource = 'HF_TOKEN';
  } else if (nonEmpty(env.HUGGING_FACE_HUB_TOKEN)) {
    accessToken = nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
    tokenSource = 'HUGGING_FACE_HUB_TOKEN';
  } else {
    accessToken = readTokenFile(tokenPath);
    if (accessToken) tokenSource = 'token-file';
  }

  const endpoint = nonEmpty(options.hubUrl) ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new HubConfigError(`The Hub endpoint "${endpoint}" is not a URL: set HF_ENDPOINT (or hubUrl) to something like https://huggingface.co.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HubConfigError(`The Hub endpoint "${endpoint}" must use http or https.`);
  }

  return {
    hubUrl: endpoint.replace(/\/+$/, ''),
    accessToken,
    tokenSource,
    tokenPath,
    hfHome,
    cacheDir,
    projectDir: modularDiffusersHome(env),
    offline: options.offline ?? isTrueEnvValue(env.HF_HUB_OFFLINE),
  };
}
