import type { Exchange } from './exchange.js';
import { HubHttpError, badRequest, entryNotFound } from './hub-server-error.js';
import { revisionAndPath, visibleRepo, wholeRevision, type ServerContext } from './server-context.js';
import { entriesUnder, entryAt, withLastCommits, type TreeEntry } from './tree-entries.js';

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === 'True' || value === '1' || value === 1;
}

/**
 * `GET /api/{type}s/{ns}/{name}/tree/{rev}[/{path}]?recursive=&expand=&cursor=`,
 * paged with a `Link: <...>; rel="next"` header as the Hub does.
 */
export async function tree(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await visibleRepo(ex, ctx);
  const { commit, path, revision } = await revisionAndPath(ctx, repo, ex.route.args);
  if (path !== '') {
    const entry = entryAt(commit, path);
    if (!entry) throw entryNotFound(path, revision.name);
    if (entry.type === 'file') throw new HubHttpError(404, `${path} is a file, not a folder: use paths-info to describe it.`, 'EntryNotFound');
  }
  const query = ex.url.searchParams;
  const all = entriesUnder(commit, path, truthy(query.get('recursive')));
  const start = query.has('cursor') ? Number.parseInt(Buffer.from(query.get('cursor')!, 'base64url').toString(), 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw badRequest('Invalid tree cursor: follow the Link header of the previous page.');
  const end = start + ctx.treePageSize;
  let page: TreeEntry[] = all.slice(start, end);
  if (truthy(query.get('expand'))) page = await withLastCommits(ctx.store, repo, commit, page);
  const headers: Record<string, string> = {};
  if (end < all.length) {
    const next = new URL(ex.url.pathname + ex.url.search, ex.origin);
    next.searchParams.set('cursor', Buffer.from(String(end)).toString('base64url'));
    headers.Link = `<${next.href}>; rel="next"`;
  }
  await ex.json(200, page, headers);
}

/** `POST /api/{type}s/{ns}/{name}/paths-info/{rev}` with `{ paths, expand }` (JSON or form). */
export async function pathsInfo(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await visibleRepo(ex, ctx);
  const { commit } = await wholeRevision(ctx, repo, ex.route.args);
  const body = await ex.readJson<{ paths?: string | string[]; expand?: unknown }>();
  const paths = body.paths === undefined ? [] : Array.isArray(body.paths) ? body.paths : [body.paths];
  if (!paths.every((p) => typeof p === 'string')) throw badRequest('"paths" must be a list of repo-relative paths.');
  // Missing paths are left out, as the Hub does; the client treats that as "not found".
  const entries = [...new Set(paths)].map((p) => entryAt(commit, p.replace(/\/+$/, ''))).filter((e): e is TreeEntry => e !== undefined);
  await ex.json(200, truthy(body.expand) ? await withLastCommits(ctx.store, repo, commit, entries) : entries);
}
