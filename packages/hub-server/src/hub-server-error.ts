import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * Raised by the local Hub server's programmatic API (starting it, seeding repos,
 * reading its store) when the caller passed something it cannot use. The message
 * says what to change. Errors answered over HTTP are {@link HubHttpError}s instead.
 */
export class HubServerError extends ModularDiffusersError {
  static override readonly code: string = 'HUB_SERVER';
  override readonly name = 'HubServerError';
}

/**
 * An error the server answers over HTTP, shaped like the real Hub's answers:
 * a status, a JSON body `{ error }` and an `X-Error-Code` header that
 * `@huggingface/hub` and `huggingface_hub` look at (`RepoNotFound`,
 * `RevisionNotFound`, `EntryNotFound`, ...).
 */
export class HubHttpError extends ModularDiffusersError {
  static override readonly code: string = 'HUB_HTTP';
  override readonly name = 'HubHttpError';

  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
    /** Headers the answer carries besides the error ones (the Hub sends `X-Repo-Commit` with a missing file). */
    readonly headers: Readonly<Record<string, string>> = {},
    /** Fields the JSON body carries besides `error` (the Hub's 409 on create-repo has the repo's `url`). */
    readonly body: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function repoNotFound(authenticated: boolean): HubHttpError {
  // Like the real Hub: anonymous callers get 401 (a private repo and a missing one
  // look the same), authenticated callers get 404.
  return new HubHttpError(
    authenticated ? 404 : 401,
    authenticated
      ? 'Repository not found: check the repo id, or use a token of a user who can see this private repo.'
      : 'Repository not found or private: check the repo id, or pass the access token of a user who can see it.',
    'RepoNotFound',
  );
}

export function revisionNotFound(revision: string): HubHttpError {
  return new HubHttpError(
    404,
    `Invalid rev id: ${revision} (no branch, tag or commit of that name; list them with GET /api/models/{repo}/refs)`,
    'RevisionNotFound',
  );
}

/**
 * With the commit: Python's client reads `X-Repo-Commit` of the 404 to write its
 * `.no_exist/<commit>/<path>` marker, so an optional file is asked for once, and
 * offline mode can answer "missing".
 */
export function entryNotFound(path: string, revision: string, commit?: string): HubHttpError {
  return new HubHttpError(404, `Entry not found: ${path} does not exist at revision ${revision}`, 'EntryNotFound', commit ? { 'X-Repo-Commit': commit } : {});
}

export function badRequest(message: string): HubHttpError {
  return new HubHttpError(400, message, 'BadRequest');
}
