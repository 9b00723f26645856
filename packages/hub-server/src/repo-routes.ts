import { createHash } from 'node:crypto';
import type { Exchange } from './exchange.js';
import { HubHttpError, badRequest } from './hub-server-error.js';
import { isValidRepoName, repoFullName, repoUrlPath, type HubRepoId, type HubRepoType } from './repo-id.js';
import { visibleRepo, wholeRevision, writableRepo, type ServerContext } from './server-context.js';
import type { CommitRecord, RepoRecord } from './store-records.js';

/** A stable 24-hex id for a user or org name (the Hub's ids are opaque). */
function idOf(name: string): string {
  return createHash('sha1').update(`user:${name}`).digest('hex').slice(0, 24);
}

/** `GET /api/whoami-v2` */
export async function whoami(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { user } = ctx.access.requireCaller(ex.caller);
  await ex.json(200, {
    type: 'user',
    id: idOf(user.name),
    name: user.name,
    fullname: user.fullname ?? user.name,
    email: user.email ?? `${user.name}@users.noreply.localhost`,
    emailVerified: true,
    isPro: false,
    canPay: false,
    periodEnd: null,
    avatarUrl: '',
    orgs: user.orgs.map((org) => ({ type: 'org', id: idOf(org), name: org, fullname: org, avatarUrl: '', roleInOrg: user.role })),
    // @huggingface/hub reads auth.accessToken.createdAt unconditionally.
    auth: { type: 'access_token', accessToken: { displayName: 'local hub token', role: user.role, createdAt: ctx.startedAt.toISOString() } },
  });
}

interface CreateRepoBody {
  name?: string;
  organization?: string;
  type?: string;
  private?: boolean;
  visibility?: string;
  files?: { path: string; content: string; encoding?: string }[];
}

function repoFromBody(ex: Exchange, body: CreateRepoBody): HubRepoId {
  if (!ex.caller) throw new HubHttpError(401, 'You must be authenticated to create or delete a repo: pass an access token.', 'Unauthorized');
  const type = (body.type ?? 'model') as HubRepoType;
  if (!['model', 'dataset', 'space'].includes(type)) throw badRequest(`Unknown repo type "${String(body.type)}": use model, dataset or space.`);
  const namespace = body.organization ?? ex.caller.user.name;
  if (typeof body.name !== 'string' || !isValidRepoName(body.name) || !isValidRepoName(namespace)) {
    throw badRequest(`Invalid repo name "${String(body.organization ?? '')}/${String(body.name)}": use letters, digits, "-", "_" and "." (no "--" or "..", at most 96 characters).`);
  }
  return { type, namespace, name: body.name };
}

/** Inline files of a new repo come base64 in the JSON body. */
const MAX_CREATE_REPO_BODY = 16 * 1024 * 1024;

/** `POST /api/repos/create` */
export async function createRepo(ex: Exchange, ctx: ServerContext): Promise<void> {
  ctx.access.requireCaller(ex.caller);
  const body = await ex.readJson<CreateRepoBody>(MAX_CREATE_REPO_BODY);
  const repo = repoFromBody(ex, body);
  ctx.access.assertCanWrite(repo, undefined, ex.caller);
  if (body.visibility !== undefined && body.visibility !== 'private' && body.visibility !== 'public') {
    throw badRequest(`Unknown visibility "${body.visibility}": use "private" or "public".`);
  }
  const files = (body.files ?? []).map((f) => {
    if (f.encoding !== undefined && f.encoding !== 'base64') throw badRequest(`File ${f.path}: only base64 encoding is supported.`);
    return { path: f.path, content: Buffer.from(f.content ?? '', 'base64') };
  });
  const isPrivate = body.visibility ? body.visibility === 'private' : body.private === true;
  const url = `${ex.origin}/${repoUrlPath(repo)}`;
  let record: RepoRecord;
  try {
    ({ record } = await ctx.store.createRepo(repo, { private: isPrivate, author: ex.caller!.user.name, files }));
  } catch (error) {
    // As the Hub: the 409 names the existing repo, which `create_repo(exist_ok=True)` returns.
    if (error instanceof HubHttpError && error.status === 409) throw new HubHttpError(409, error.message, error.errorCode, {}, { url, name: repoFullName(repo) });
    throw error;
  }
  await ex.json(200, { url, name: repoFullName(repo), id: record._id });
}

/** `DELETE /api/repos/delete` */
export async function deleteRepo(ex: Exchange, ctx: ServerContext): Promise<void> {
  ctx.access.requireCaller(ex.caller);
  const body = await ex.readJson<CreateRepoBody>();
  const repo = repoFromBody(ex, body);
  const record = await ctx.store.getRepo(repo);
  ctx.access.assertCanRead(record, ex.caller);
  ctx.access.assertCanWrite(repo, record, ex.caller);
  await ctx.store.deleteRepo(repo);
  await ex.json(200, {});
}

function repoInfoJson(record: RepoRecord, commit: CommitRecord, withBlobs: boolean): Record<string, unknown> {
  const id = `${record.namespace}/${record.name}`;
  return {
    _id: record._id,
    id,
    ...(record.type === 'model' ? { modelId: id } : {}),
    author: record.namespace,
    sha: commit.id,
    lastModified: commit.date,
    createdAt: record.createdAt,
    private: record.private,
    gated: false,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: [],
    siblings: Object.entries(commit.files).map(([path, file]) =>
      withBlobs
        ? { rfilename: path, size: file.size, blobId: file.oid, ...(file.lfs ? { lfs: { sha256: file.lfs.oid, size: file.lfs.size, pointerSize: file.lfs.pointerSize } } : {}) }
        : { rfilename: path },
    ),
  };
}

/** `?blobs=true`; Python's `requests` sends the boolean as `True`, and `1` is read the same way. */
function wantsBlobs(ex: Exchange): boolean {
  return ['true', '1'].includes((ex.url.searchParams.get('blobs') ?? '').toLowerCase());
}

/** `GET /api/{type}s/{ns}/{name}` (the default branch) */
export async function repoInfo(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo, record } = await visibleRepo(ex, ctx);
  const { commit } = await wholeRevision(ctx, repo, ['main']);
  await ex.json(200, repoInfoJson(record, commit, wantsBlobs(ex)));
}

/** `GET /api/{type}s/{ns}/{name}/revision/{rev}` */
export async function revisionInfo(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo, record } = await visibleRepo(ex, ctx);
  const { commit } = await wholeRevision(ctx, repo, ex.route.args);
  await ex.json(200, repoInfoJson(record, commit, wantsBlobs(ex)));
}

/** `GET /api/{type}s/{ns}/{name}/refs` */
export async function listRefs(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await visibleRepo(ex, ctx);
  const refs = await ctx.store.readRefs(repo);
  const list = (table: Record<string, string>, prefix: string) =>
    Object.entries(table).map(([name, targetCommit]) => ({ name, ref: `refs/${prefix}/${name}`, targetCommit }));
  await ex.json(200, {
    branches: list(refs.branches, 'heads'),
    tags: list(refs.tags, 'tags'),
    converts: [],
    ...(ex.url.searchParams.get('include_prs') ? { pullRequests: list(refs.pulls, 'pr') } : {}),
  });
}

/** `GET /api/{type}s/{ns}/{name}/commits/{rev}?limit=&p=` (first-parent history, newest first) */
export async function listCommits(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await visibleRepo(ex, ctx);
  const { commit } = await wholeRevision(ctx, repo, ex.route.args.length ? ex.route.args : ['main']);
  const history = await ctx.store.history(repo, commit.id);
  const limit = Math.max(1, Math.min(1000, Number(ex.url.searchParams.get('limit') ?? 50) || 50));
  const page = Math.max(0, Number(ex.url.searchParams.get('p') ?? 0) || 0);
  const slice = history.slice(page * limit, (page + 1) * limit);
  const headers: Record<string, string> = { 'X-Total-Count': String(history.length) };
  if ((page + 1) * limit < history.length) {
    const next = new URL(ex.url.pathname, ex.origin);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('p', String(page + 1));
    headers.Link = `<${next.href}>; rel="next"`;
  }
  await ex.json(
    200,
    slice.map((c) => ({
      id: c.id,
      title: c.title,
      message: c.description ? `${c.title}\n\n${c.description}` : c.title,
      authors: [{ user: c.author, avatar: '' }],
      date: c.date,
    })),
    headers,
  );
}

/** `POST|DELETE /api/{type}s/{ns}/{name}/branch/{branch}` */
export async function branch(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await writableRepo(ex, ctx);
  const name = ex.route.args.join('/');
  if (ex.method === 'DELETE') {
    await ctx.store.deleteBranch(repo, name);
  } else {
    const body = await ex.readJson<{ startingPoint?: string; emptyBranch?: boolean; overwrite?: boolean }>();
    if (body.emptyBranch) throw badRequest('This local Hub server cannot create an empty branch: create it from a revision (startingPoint) instead.');
    await ctx.store.createBranch(repo, name, { startingPoint: body.startingPoint, overwrite: body.overwrite });
  }
  await ex.json(200, {});
}

/** `POST /api/{type}s/{ns}/{name}/tag/{revision}` with `{ tag }`, `DELETE .../tag/{tag}` */
export async function tag(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await writableRepo(ex, ctx);
  const target = ex.route.args.join('/');
  if (ex.method === 'DELETE') {
    await ctx.store.deleteTag(repo, target);
  } else {
    const body = await ex.readJson<{ tag?: string }>();
    if (typeof body.tag !== 'string') throw badRequest('Missing "tag" in the body: send { "tag": "v1.0" }.');
    await ctx.store.createTag(repo, body.tag, target || 'main');
  }
  await ex.json(200, {});
}
