import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Exchange } from './exchange.js';
import { lfsPointer } from './git-objects.js';
import { HubHttpError, entryNotFound } from './hub-server-error.js';
import { parseByteRange } from './http-range.js';
import { revisionAndPath, visibleRepo, type ServerContext } from './server-context.js';

const TEXT_TYPES: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  py: 'text/x-python; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

function contentTypeOf(path: string): string {
  return TEXT_TYPES[path.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream';
}

function contentDisposition(path: string): string {
  const name = path.split('/').pop()!;
  return `inline; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}";`;
}

/**
 * Sends `size` bytes honouring `Range` (206 + `Content-Range`, 416 when out of
 * bounds). `@huggingface/hub` learns a file's size from the `Content-Range` of a
 * `bytes=0-0` probe, so an empty file still gets `Content-Range: bytes *\/0`.
 */
async function sendBytes(
  ex: Exchange,
  headers: OutgoingHttpHeaders,
  size: number,
  open: (range?: { start: number; end: number }) => Readable | Buffer,
): Promise<void> {
  const rangeHeader = ex.req.headers.range;
  const range = size === 0 ? { kind: 'full' as const } : parseByteRange(rangeHeader, size);
  const base = { 'Accept-Ranges': 'bytes', ...headers };
  if (range.kind === 'unsatisfiable') {
    await ex.send(416, { ...base, 'Content-Range': `bytes */${size}` });
  } else if (range.kind === 'partial') {
    const body = ex.method === 'HEAD' ? undefined : open({ start: range.start, end: range.end });
    await ex.send(206, { ...base, 'Content-Range': `bytes ${range.start}-${range.end}/${size}` }, body, range.end - range.start + 1);
  } else {
    const body = ex.method === 'HEAD' ? undefined : open();
    await ex.send(200, { ...base, ...(rangeHeader && size === 0 ? { 'Content-Range': 'bytes */0' } : {}) }, body, size);
  }
}

/**
 * `GET|HEAD /{repo}/resolve/{rev}/{path}` and `/raw/...`. Headers as the Hub sends
 * them: `ETag` (git blob id, or sha256 for LFS through `resolve`), `X-Repo-Commit`,
 * and for LFS `X-Linked-Etag` / `X-Linked-Size`. `raw` serves an LFS file's pointer.
 */
export async function resolveFile(ex: Exchange, ctx: ServerContext): Promise<void> {
  const { repo } = await visibleRepo(ex, ctx);
  const { commit, path, revision } = await revisionAndPath(ctx, repo, ex.route.args);
  const file = Object.hasOwn(commit.files, path) ? commit.files[path] : undefined;
  if (!file) throw entryNotFound(path, revision.name, commit.id);
  const headers: OutgoingHttpHeaders = {
    'X-Repo-Commit': commit.id,
    'Content-Disposition': ex.url.searchParams.has('noContentDisposition') ? undefined : contentDisposition(path),
    'Content-Type': contentTypeOf(path),
  };
  if (!headers['Content-Disposition']) delete headers['Content-Disposition'];

  if (file.lfs && ex.route.name === 'raw') {
    const pointer = lfsPointer(file.lfs.oid, file.lfs.size);
    await sendBytes(ex, { ...headers, ETag: `"${file.oid}"`, 'Content-Type': 'text/plain; charset=utf-8' }, pointer.byteLength, (r) =>
      r ? pointer.subarray(r.start, r.end + 1) : pointer,
    );
    return;
  }
  if (file.lfs) {
    const lfsHeaders = { ...headers, ETag: `"${file.lfs.oid}"`, 'X-Linked-Etag': `"${file.lfs.oid}"`, 'X-Linked-Size': String(file.lfs.size) };
    if (ctx.lfsRedirect) {
      await ex.send(302, { ...lfsHeaders, Location: ctx.links.downloadHref(ex.origin, file.lfs.oid) });
      return;
    }
    await sendBytes(ex, lfsHeaders, file.size, (r) => ctx.store.openContent(file, r));
    return;
  }
  await sendBytes(ex, { ...headers, ETag: `"${file.oid}"` }, file.size, (r) => ctx.store.openContent(file, r));
}

/** `GET|HEAD /_lfs/objects/{sha256}?expires=&signature=`: where LFS resolves redirect to. */
export async function lfsObject(ex: Exchange, ctx: ServerContext): Promise<void> {
  const oid = ex.route.args[0];
  ctx.links.assertDownloadAllowed(oid, ex.url.searchParams);
  const size = await ctx.store.lfsObjectSize(oid);
  if (size === undefined) throw new HubHttpError(404, `No LFS object ${oid} on this server.`, 'EntryNotFound');
  const file = { oid, size, lfs: { oid, size, pointerSize: 0 }, lastCommit: '' };
  await sendBytes(ex, { ETag: `"${oid}"`, 'Content-Type': 'application/octet-stream' }, size, (r) => ctx.store.openContent(file, r));
}
