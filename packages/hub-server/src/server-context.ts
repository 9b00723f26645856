import type { AccessControl } from './access-control.js';
import type { Exchange } from './exchange.js';
import { revisionNotFound } from './hub-server-error.js';
import type { HubStore, ResolvedRevision } from './hub-store.js';
import type { LfsLinks } from './lfs-links.js';
import type { HubRepoId } from './repo-id.js';
import type { CommitRecord, RepoRecord } from './store-records.js';

/** What every route handler works with. */
export interface ServerContext {
  store: HubStore;
  access: AccessControl;
  links: LfsLinks;
  lfsThresholdBytes: number;
  treePageSize: number;
  /** Answer `resolve` of LFS files with a 302 to a signed object URL, as the Hub's CDN does. */
  lfsRedirect: boolean;
  startedAt: Date;
}

export type RouteHandler = (ex: Exchange, ctx: ServerContext) => Promise<void>;

/** The repo of the route, if the caller may see it; the Hub's 401/404 otherwise. */
export async function visibleRepo(ex: Exchange, ctx: ServerContext): Promise<{ repo: HubRepoId; record: RepoRecord }> {
  const repo = ex.route.repo!;
  const record = await ctx.store.getRepo(repo);
  ctx.access.assertCanRead(record, ex.caller);
  return { repo, record };
}

/** The repo of the route, if the caller may write to it. */
export async function writableRepo(ex: Exchange, ctx: ServerContext): Promise<{ repo: HubRepoId; record: RepoRecord }> {
  const repo = ex.route.repo!;
  const record = await ctx.store.getRepo(repo);
  ctx.access.assertCanRead(record, ex.caller);
  ctx.access.assertCanWrite(repo, record, ex.caller);
  return { repo, record };
}

export interface RevisionAndPath {
  revision: ResolvedRevision;
  commit: CommitRecord;
  /** Repo-relative path after the revision, `''` for none. */
  path: string;
}

/**
 * Splits `[rev..., path...]` segments. The revision is normally one (percent-encoded)
 * segment, but `listFiles` sends it unencoded, so `refs/pr/1` arrives as three:
 * the shortest prefix naming a revision wins (git forbids `a` and `a/b` together).
 */
export async function revisionAndPath(ctx: ServerContext, repo: HubRepoId, segments: string[]): Promise<RevisionAndPath> {
  for (let k = 1; k <= segments.length; k++) {
    const revision = await ctx.store.resolveRevision(repo, segments.slice(0, k).join('/'));
    if (revision) {
      const commit = (await ctx.store.readCommit(repo, revision.sha))!;
      return { revision, commit, path: segments.slice(k).join('/') };
    }
  }
  throw revisionNotFound(segments[0] ?? '');
}

/** The whole segment list as one revision (routes whose URL ends with the revision). */
export async function wholeRevision(ctx: ServerContext, repo: HubRepoId, segments: string[]): Promise<{ revision: ResolvedRevision; commit: CommitRecord }> {
  const name = segments.join('/');
  const revision = await ctx.store.resolveRevision(repo, name);
  if (!revision) throw revisionNotFound(name);
  return { revision, commit: (await ctx.store.readCommit(repo, revision.sha))! };
}
