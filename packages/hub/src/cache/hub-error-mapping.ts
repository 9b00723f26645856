import { HubApiError } from '@huggingface/hub';
import type { TokenSource } from '../config/hub-config.js';
import {
  cacheWriteError,
  EntryNotFoundError,
  HubError,
  HubRequestError,
  HubUnauthorizedError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';

export interface HubErrorContext {
  repo: string;
  revision: string;
  hubUrl: string;
  tokenSource: TokenSource;
  errorCode(url: string): string | undefined;
  signal?: AbortSignal;
  /** The file being fetched, for an `EntryNotFound` answer. */
  path?: string;
  /** The cache root, named when the disk is full or not writable. */
  cacheDir: string;
}

const TOKEN_NAMES: Record<TokenSource, string> = {
  option: 'the accessToken option',
  HF_TOKEN: 'HF_TOKEN',
  HUGGING_FACE_HUB_TOKEN: 'HUGGING_FACE_HUB_TOKEN',
  'token-file': 'the token file ($HF_TOKEN_PATH or $HF_HOME/token)',
  none: 'no token',
};

/**
 * Turns what `@huggingface/hub` throws into this package's typed errors. The
 * Hub answers 401 to an anonymous caller for a repo that is missing or
 * private, 404 with a token; `X-Error-Code` says which of repo, revision or
 * file was missing.
 */
export function mapHubError(error: unknown, ctx: HubErrorContext): unknown {
  if (ctx.signal?.aborted) return ctx.signal.reason;
  if (error instanceof HubError) return error;
  const diskError = cacheWriteError(error, ctx.cacheDir);
  if (diskError) return diskError;
  const hadToken = ctx.tokenSource !== 'none';
  if (error instanceof HubApiError) {
    const code = ctx.errorCode(error.url);
    const detail = error.message.replace(/\. URL: .*$/s, '');
    if (code === 'RevisionNotFound' || (error.statusCode === 404 && /invalid rev id/i.test(detail))) {
      return new RevisionNotFoundError(ctx.repo, ctx.revision, { cause: error });
    }
    if (code === 'EntryNotFound' && ctx.path !== undefined) return new EntryNotFoundError(ctx.repo, ctx.revision, [ctx.path], 'missing', { cause: error });
    if (error.statusCode === 401 && hadToken && code !== 'RepoNotFound') {
      return new HubUnauthorizedError(ctx.repo, `the Hub at ${ctx.hubUrl} rejected the token from ${TOKEN_NAMES[ctx.tokenSource]} (${detail}). Replace it with a valid token, or unset it for public repos.`, { cause: error });
    }
    if (error.statusCode === 401 || error.statusCode === 404 || code === 'RepoNotFound') return new RepoNotFoundError(ctx.repo, hadToken, { cause: error });
    if (error.statusCode === 403) {
      return new HubUnauthorizedError(ctx.repo, `${detail}. The repo may be gated (accept its conditions on the Hub) or the token from ${TOKEN_NAMES[ctx.tokenSource]} lacks the rights.`, { cause: error });
    }
    return new HubRequestError(`The Hub at ${ctx.hubUrl} answered ${error.statusCode} for ${ctx.repo}${ctx.path ? ` (${ctx.path})` : ''}: ${detail}. Try again later.`, error.statusCode, { cause: error });
  }
  if (error instanceof TypeError && /access token must start with 'hf_'/i.test(error.message)) {
    return new HubUnauthorizedError(ctx.repo, `the token from ${TOKEN_NAMES[ctx.tokenSource]} does not start with "hf_", so it is not a Hugging Face token. Create one at https://huggingface.co/settings/tokens.`, { cause: error });
  }
  const reason = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
  return new HubRequestError(
    `Could not download ${ctx.repo}${ctx.path ? ` (${ctx.path})` : ''} from ${ctx.hubUrl}: ${reason}. ` +
      'Check the connection and HF_ENDPOINT and run again (a partial download resumes); to use only the cache, set HF_HUB_OFFLINE=1.',
    undefined,
    { cause: error },
  );
}
