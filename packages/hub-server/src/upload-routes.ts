import type { Exchange } from './exchange.js';
import { parseLfsRules } from './gitattributes.js';
import { HubHttpError, badRequest } from './hub-server-error.js';
import type { CommitOperation } from './hub-store.js';
import { uploadModeFor } from './lfs-policy.js';
import { repoUrlPath } from './repo-id.js';
import { assertValidRepoPath } from './repo-path.js';
import { wholeRevision, writableRepo, type ServerContext } from './server-context.js';

const MAX_COMMIT_BODY = 1024 * 1024 * 1024;

interface PreuploadBody {
  gitAttributes?: string;
  files?: { path: string; size: number; sample?: string }[];
}

/**
 * `POST /api/{type}s/{ns}/{name}/preupload/{rev}`: tells the client which files
 * go through LFS, from `.gitattributes` (the commit's own, else the branch's), size
 * and a binary sniff of the 512-byte sample.
 */
export async function preupload(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await writableRepo(ex, ctx);
  const { commit } = await wholeRevision(ctx, repo, ex.route.args);
  const body = await ex.readJson<PreuploadBody>();
  if (!Array.isArray(body.files)) throw badRequest('Preupload needs { files: [{ path, size, sample }] }.');
  const attributes =
    body.gitAttributes ??
    (commit.files['.gitattributes'] ? (await readAll(ctx.store.openContent(commit.files['.gitattributes']))).toString('utf8') : '');
  const policy = { rules: parseLfsRules(attributes), thresholdBytes: ctx.lfsThresholdBytes };
  const files = body.files.map((file) => {
    assertValidRepoPath(file.path);
    if (!Number.isInteger(file.size) || file.size < 0) throw badRequest(`File ${file.path}: size must be a whole number of bytes.`);
    const uploadMode = uploadModeFor({ path: file.path, size: file.size, sample: Buffer.from(file.sample ?? '', 'base64') }, policy);
    const existing = Object.hasOwn(commit.files, file.path) ? commit.files[file.path] : undefined;
    // `oid` lets huggingface_hub skip files that did not change: sha256 for LFS, git id otherwise.
    const oid = existing ? (existing.lfs ? existing.lfs.oid : existing.oid) : undefined;
    return { path: file.path, uploadMode, shouldIgnore: false, ...(oid ? { oid } : {}) };
  });
  await ex.json(200, { files, commitOid: commit.id });
}

interface LfsBatchBody {
  operation?: string;
  transfers?: string[];
  objects?: { oid: string; size: number }[];
}

const LFS_JSON = 'application/vnd.git-lfs+json';

/** LFS batch bodies are lists of `{ oid, size }`: 1 MiB is ~10,000 objects. */
const MAX_LFS_BATCH_BODY = 1024 * 1024;

/**
 * `POST /{repo}.git/info/lfs/objects/batch`, basic transfer only. The caller's
 * right to the repo is checked before the body is read. A download gets links only
 * for objects this repo's commits reference; an upload answers "nothing to send"
 * only for objects the repo already holds, and asks for the bytes otherwise (even
 * if another repo stored them), so neither answer says what other repos hold.
 */
export async function lfsBatch(ex: Exchange, ctx: ServerContext): Promise<void> {
  const repo = ex.route.repo!;
  const record = await ctx.store.getRepo(repo);
  ctx.access.assertCanRead(record, ex.caller);
  const body = await ex.readJson<LfsBatchBody>(MAX_LFS_BATCH_BODY);
  if (body.operation !== 'upload' && body.operation !== 'download') throw badRequest('LFS batch "operation" must be "upload" or "download".');
  if (body.operation === 'upload') ctx.access.assertCanWrite(repo, record, ex.caller);
  if (body.transfers && !body.transfers.includes('basic')) {
    throw new HubHttpError(422, 'This server speaks only the "basic" LFS transfer: include it in "transfers".', 'UnsupportedTransfer');
  }
  if (!Array.isArray(body.objects)) throw badRequest('LFS batch needs "objects": [{ oid, size }].');
  const objects = [];
  for (const object of body.objects) {
    const valid = typeof object.oid === 'string' && /^[0-9a-f]{64}$/.test(object.oid) && Number.isInteger(object.size) && object.size >= 0;
    if (!valid) {
      objects.push({ oid: object.oid, size: object.size, error: { code: 422, message: 'oid must be a sha256 hex digest and size a whole number of bytes' } });
      continue;
    }
    if (body.operation === 'download') {
      const size = (await ctx.store.repoReferencesLfs(repo, object.oid)) ? await ctx.store.lfsObjectSize(object.oid) : undefined;
      objects.push(
        size === undefined
          ? { oid: object.oid, size: object.size, error: { code: 404, message: 'Object does not exist' } }
          : { oid: object.oid, size, authenticated: true, actions: { download: { href: ctx.links.downloadHref(ex.origin, object.oid), expires_in: 3600 } } },
      );
    } else if ((await ctx.store.repoHoldsLfs(repo, object.oid)) && (await ctx.store.lfsObjectSize(object.oid)) === object.size) {
      objects.push({ oid: object.oid, size: object.size });
    } else {
      objects.push({ oid: object.oid, size: object.size, authenticated: true, actions: { upload: { href: ctx.links.uploadHref(ex.origin, object.oid, object.size, repo), expires_in: 3600 } } });
    }
  }
  await ex.json(200, { transfer: 'basic', objects, hash_algo: 'sha256' }, { 'Content-Type': LFS_JSON });
}

/** `PUT /_lfs/upload/{ticket}`: the bytes of one LFS object, checked against its sha256, then held by the ticket's repo. */
export async function lfsUpload(ex: Exchange, ctx: ServerContext): Promise<void> {
  const ticket = ex.route.args[0];
  const expected = ctx.links.upload(ticket);
  await ctx.store.putLfsObject(ex.req, expected);
  await ctx.store.grantLfs(expected.repo, expected.oid);
  ctx.links.completeUpload(ticket);
  await ex.send(200, {});
}

interface NdjsonLine {
  key?: string;
  value?: Record<string, unknown>;
}

function parseCommitBody(text: string): { header: Record<string, unknown>; operations: CommitOperation[] } {
  let header: Record<string, unknown> | undefined;
  const operations: CommitOperation[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const [index, line] of lines.entries()) {
    let parsed: NdjsonLine;
    try {
      parsed = JSON.parse(line) as NdjsonLine;
    } catch {
      throw badRequest(`Commit body line ${index + 1} is not JSON: send one JSON object per line (application/x-ndjson).`);
    }
    const value = parsed.value ?? {};
    const path = value.path as string;
    switch (parsed.key) {
      case 'header':
        header = value;
        break;
      case 'file':
        if (value.encoding !== undefined && value.encoding !== 'base64') throw badRequest(`File ${path}: only base64 content is supported.`);
        if (typeof value.content !== 'string') throw badRequest(`File ${path}: missing base64 "content".`);
        operations.push({ kind: 'file', path, content: Buffer.from(value.content, 'base64') });
        break;
      case 'lfsFile':
        if (value.algo !== undefined && value.algo !== 'sha256') throw badRequest(`LFS file ${path}: only sha256 oids are supported.`);
        operations.push({ kind: 'lfsFile', path, oid: String(value.oid), size: Number(value.size) });
        break;
      case 'deletedFile':
        operations.push({ kind: 'deletedFile', path });
        break;
      case 'deletedFolder':
        operations.push({ kind: 'deletedFolder', path: path.replace(/\/+$/, '') });
        break;
      default:
        throw badRequest(`Commit body line ${index + 1} has unknown key "${String(parsed.key)}": use header, file, lfsFile, deletedFile or deletedFolder.`);
    }
  }
  if (!header) throw badRequest('The commit body needs a first line { "key": "header", "value": { "summary": ... } }.');
  return { header, operations };
}

/** `POST /api/{type}s/{ns}/{name}/commit/{branch}[?create_pr=1]` with an ndjson body. */
export async function commit(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await writableRepo(ex, ctx);
  const branch = ex.route.args.join('/');
  const { header, operations } = parseCommitBody((await ex.readBody(MAX_COMMIT_BODY)).toString('utf8'));
  const summary = header.summary;
  if (typeof summary !== 'string' || summary.trim() === '') throw badRequest('The commit header needs a non-empty "summary" (the commit title).');
  const parentCommit = header.parentCommit;
  if (parentCommit !== undefined && (typeof parentCommit !== 'string' || !/^[0-9a-f]{40}$/.test(parentCommit))) {
    throw badRequest('"parentCommit" must be a full 40-hex commit sha.');
  }
  const createPullRequest = ['1', 'true', 'True'].includes(ex.url.searchParams.get('create_pr') ?? '');
  const result = await ctx.store.commit(repo, {
    branch,
    title: summary,
    description: typeof header.description === 'string' ? header.description : undefined,
    author: ex.caller!.user.name,
    parentCommit,
    createPullRequest,
    operations,
  });
  const base = `${ex.origin}/${repoUrlPath(repo)}`;
  await ex.json(200, {
    success: true,
    commitOid: result.commit.id,
    commitUrl: `${base}/commit/${result.commit.id}`,
    ...(result.pullRequest !== undefined ? { pullRequestUrl: `${base}/discussions/${result.pullRequest}` } : {}),
    hookOutput: '',
  });
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
