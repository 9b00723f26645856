import { createRepo, HubApiError, uploadFiles } from '@huggingface/hub';
import { HubError, HubUnauthorizedError } from '../cache/hub-errors.js';
import { resolveHubConfig, type HubEnv } from '../config/hub-config.js';
import type { FolderFile } from './write-folder-atomic.js';

export interface PushToHubOptions {
  repoId: string;
  files: readonly FolderFile[];
  private?: boolean;
  /** A write token (default: HF_TOKEN / the token file). */
  token?: string;
  hubUrl?: string;
  commitMessage?: string;
  signal?: AbortSignal;
  env?: HubEnv;
  fetch?: typeof fetch;
}

export interface PushResult {
  repoUrl: string;
  /** The commit holding every file. */
  commit: string;
}

/**
 * Creates the repo when it does not exist yet (an existing one is fine) and
 * uploads every file in ONE commit, so the repo never shows half a plugin.
 */
export async function pushToHub(options: PushToHubOptions): Promise<PushResult> {
  const config = resolveHubConfig({ env: options.env, hubUrl: options.hubUrl, accessToken: options.token });
  if (!config.accessToken) {
    throw new HubUnauthorizedError(options.repoId, 'pushing needs a write token: pass { token }, set HF_TOKEN, or log in so $HF_HOME/token exists.');
  }
  const credentials = { hubUrl: config.hubUrl, accessToken: config.accessToken, fetch: options.fetch };
  let repoUrl = `${config.hubUrl}/${options.repoId}`;
  try {
    repoUrl = (await createRepo({ ...credentials, repo: options.repoId, ...(options.private !== undefined ? { visibility: options.private ? 'private' : 'public' } : {}) })).repoUrl;
  } catch (error) {
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw pushError(options.repoId, 'create the repo', error);
  }
  let output;
  try {
    output = await uploadFiles({
      ...credentials,
      repo: options.repoId,
      files: options.files.map((f) => ({ path: f.path, content: new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)]) })),
      commitTitle: options.commitMessage ?? 'Upload modular pipeline',
      abortSignal: options.signal,
      useXet: false,
    });
  } catch (error) {
    throw pushError(options.repoId, 'upload the files', error);
  }
  if (!output) throw new HubError(`Pushing to ${options.repoId} returned no commit; check that hubUrl (${config.hubUrl}) is a Hugging Face Hub.`);
  return { repoUrl, commit: output.commit.oid };
}

function pushError(repo: string, step: string, error: unknown): Error {
  if (error instanceof HubApiError && (error.statusCode === 401 || error.statusCode === 403)) {
    return new HubUnauthorizedError(repo, `could not ${step} (HTTP ${error.statusCode}): use a token with write access to ${repo.split('/')[0]}.`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new HubError(`Could not ${step} for ${repo}: ${message}`, { cause: error });
}
