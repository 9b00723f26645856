import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * Errors of Hub downloads and the local cache. Each says what went wrong and
 * what to do next. Names are class fields so they survive a frozen realm.
 */
export class HubError extends ModularDiffusersError {
  static override readonly code: string = 'HUB';
  override name = 'HubError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const TOKEN_HINT = 'If it is private or gated, pass a token that can read it (set HF_TOKEN, log in so $HF_HOME/token exists, or pass accessToken).';

/** The repo does not exist, or the caller cannot see it (the Hub answers the same for both). */
export class RepoNotFoundError extends HubError {
  static override readonly code: string = 'REPO_NOT_FOUND';
  override name = 'RepoNotFoundError';
  constructor(
    readonly repo: string,
    hadToken: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      `Repository ${repo} was not found on the Hub. Check the id (org/name). ` +
        (hadToken ? 'The token that was sent cannot see it: use a token of a user or org with access.' : TOKEN_HINT),
      options,
    );
  }
}

/** The repo exists but has no branch, tag or commit of that name. */
export class RevisionNotFoundError extends HubError {
  static override readonly code: string = 'REVISION_NOT_FOUND';
  override name = 'RevisionNotFoundError';
  constructor(
    readonly repo: string,
    readonly revision: string,
    options?: { cause?: unknown },
  ) {
    super(`Revision "${revision}" of ${repo} does not exist: use an existing branch, tag or full 40-character commit sha (default "main").`, options);
  }
}

/** A requested file is not in the repo at that revision. */
export class EntryNotFoundError extends HubError {
  static override readonly code: string = 'ENTRY_NOT_FOUND';
  override name = 'EntryNotFoundError';
  constructor(
    readonly repo: string,
    readonly revision: string,
    readonly paths: string[],
    /** `folder` when the paths exist but are folders. */
    readonly reason: 'missing' | 'folder' = 'missing',
    options?: { cause?: unknown },
  ) {
    const detail =
      reason === 'folder'
        ? ` as files (${paths.length === 1 ? 'it is a folder' : 'they are folders'}: select a folder's files with allowPatterns such as "${paths[0]}/*")`
        : '';
    super(`${paths.length === 1 ? 'File' : 'Files'} ${paths.join(', ')} not found in ${repo} at revision ${revision}${detail}. Check the paths against the repo's file list.`, options);
  }
}

/** The token was refused (401) or lacks the rights (403). */
export class HubUnauthorizedError extends HubError {
  static override readonly code: string = 'HUB_UNAUTHORIZED';
  override name = 'HubUnauthorizedError';
  constructor(
    readonly repo: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Access to ${repo} was refused: ${reason}`, options);
  }
}

/** Offline (HF_HUB_OFFLINE or localFilesOnly) and the cache does not hold what was asked. */
export class HubCacheMissError extends HubError {
  static override readonly code: string = 'HUB_CACHE_MISS';
  override name = 'HubCacheMissError';
  constructor(
    readonly repo: string,
    readonly revision: string,
    readonly missing: string[],
    cacheDir: string,
  ) {
    super(
      `Offline mode: ${repo} at revision ${revision} is not fully in the cache ${cacheDir} (missing: ${missing.join(', ')}). ` +
        'Go online once to download it (unset HF_HUB_OFFLINE, or pass localFilesOnly: false), or point HF_HUB_CACHE at a cache that has it.',
    );
  }
}

/** Downloaded or cached bytes do not hash to the id the Hub gives for the file. */
export class HubIntegrityError extends HubError {
  static override readonly code: string = 'HUB_INTEGRITY';
  override name = 'HubIntegrityError';
  constructor(
    readonly repo: string,
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    advice: string,
  ) {
    super(`${path} of ${repo} is corrupt: its content hashes to ${actual}, the Hub says ${expected}. ${advice}`);
  }
}

/** The Hub could not be reached or answered with an unexpected error. */
export class HubRequestError extends HubError {
  static override readonly code: string = 'HUB_REQUEST';
  override name = 'HubRequestError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A JSON file of a repo (or a local folder) does not parse. */
export class HubJsonError extends HubError {
  static override readonly code: string = 'HUB_JSON';
  override name = 'HubJsonError';
  constructor(
    readonly repo: string,
    readonly path: string,
    reason: string,
  ) {
    super(`${path} of ${repo} is not valid JSON (${reason}). Fix the file in the repo, or pin a revision where it is valid.`);
  }
}

/** Errno codes of a cache that cannot be written, each with its own advice. */
export type CacheWriteCode = 'ENOSPC' | 'EDQUOT' | 'EACCES' | 'EPERM' | 'EROFS';
const CACHE_WRITE_CODES: readonly string[] = ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS'];

/** The disk under the cache is full, or the cache is not writable: not a network problem. */
export class HubCacheWriteError extends HubError {
  static override readonly code: string = 'HUB_CACHE_WRITE';
  override name = 'HubCacheWriteError';
  constructor(
    /** The file-system errno code behind it (`code` is this class's, 'HUB_CACHE_WRITE'). */
    readonly errnoCode: CacheWriteCode,
    readonly path: string | undefined,
    readonly cacheDir: string,
    options?: { cause?: unknown },
  ) {
    const where = path ? ` (writing ${path})` : '';
    super(
      errnoCode === 'ENOSPC' || errnoCode === 'EDQUOT'
        ? `No space left on the disk of the Hugging Face cache ${cacheDir}${where}${errnoCode === 'EDQUOT' ? ': the disk quota is used up' : ''}. ` +
            'Free some space (a partial download resumes where it stopped), delete repos you no longer use from the cache, or point HF_HUB_CACHE at a larger disk.'
        : `The Hugging Face cache ${cacheDir} cannot be written${where}: ${errnoCode === 'EROFS' ? 'it is on a read-only file system' : 'permission denied'}. ` +
            'Fix its permissions (a cache created by another user or with sudo is a common cause), point HF_HUB_CACHE at a folder you own, or set HF_HUB_OFFLINE=1 to only read it.',
      options,
    );
  }
}

/** The {@link HubCacheWriteError} for a file-system error of that kind, found in `error` or its causes. */
export function cacheWriteError(error: unknown, cacheDir: string): HubCacheWriteError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof HubCacheWriteError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && CACHE_WRITE_CODES.includes(code)) return new HubCacheWriteError(code as CacheWriteCode, (e as NodeJS.ErrnoException).path, cacheDir, { cause: e });
  }
  return undefined;
}
