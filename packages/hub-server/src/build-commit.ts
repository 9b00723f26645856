import { gitBlobSha1, gitCommitSha1, gitTreeIds, lfsPointer } from './git-objects.js';
import { HubHttpError, badRequest, entryNotFound } from './hub-server-error.js';
import { assertValidRepoPath, parentFolders } from './repo-path.js';
import type { CommitRecord, StoredFile } from './store-records.js';

/** One change of a commit, as the ndjson commit body lists them. */
export type CommitOperation =
  | { kind: 'file'; path: string; content: Uint8Array }
  | { kind: 'lfsFile'; path: string; oid: string; size: number }
  | { kind: 'deletedFile'; path: string }
  | { kind: 'deletedFolder'; path: string };

export interface CommitContent {
  /** Branch (or `refs/pr/<n>`) the commit goes to; named in errors. */
  branch: string;
  title: string;
  description?: string;
  author: string;
  operations: CommitOperation[];
  /** Commit time; defaults to now. */
  date?: Date;
}

/** How a commit reaches the object store. */
export interface ObjectWriter {
  /** Stores a regular file's bytes, returning its git blob id. */
  putRegular(content: Uint8Array): Promise<string>;
  /** Size of a stored LFS object, undefined when it was never uploaded. */
  lfsSize(sha256: string): Promise<number | undefined>;
}

/**
 * Applies operations to the parent's files (in order) and returns the new commit,
 * with git tree and commit ids and each file's last-changing commit. Regular
 * contents are stored on the way; nothing refers to them until the commit is saved.
 */
export async function buildCommit(parent: CommitRecord | undefined, request: CommitContent, objects: ObjectWriter): Promise<CommitRecord> {
  const files = new Map<string, Omit<StoredFile, 'lastCommit'>>(parent ? Object.entries(parent.files) : []);
  for (const op of request.operations) {
    assertValidRepoPath(op.path);
    if (op.kind === 'deletedFile') {
      if (!files.delete(op.path)) throw entryNotFound(op.path, request.branch);
    } else if (op.kind === 'deletedFolder') {
      const prefix = `${op.path}/`;
      const doomed = [...files.keys()].filter((p) => p.startsWith(prefix));
      if (doomed.length === 0) throw entryNotFound(op.path, request.branch);
      for (const p of doomed) files.delete(p);
    } else if (op.kind === 'file') {
      files.set(op.path, { oid: await objects.putRegular(op.content), size: op.content.byteLength });
    } else {
      const stored = await objects.lfsSize(op.oid);
      if (stored === undefined) {
        throw new HubHttpError(
          422,
          `LFS object ${op.oid} for ${op.path} was never uploaded: upload it through the LFS batch API (POST {repo}.git/info/lfs/objects/batch) before committing.`,
          'LfsObjectMissing',
        );
      }
      if (stored !== op.size) throw badRequest(`LFS object ${op.oid} for ${op.path} has ${stored} bytes, the commit says ${op.size}.`);
      const pointer = lfsPointer(op.oid, op.size);
      files.set(op.path, { oid: gitBlobSha1(pointer), size: op.size, lfs: { oid: op.oid, size: op.size, pointerSize: pointer.byteLength } });
    }
  }
  for (const path of files.keys()) {
    for (const folder of parentFolders(path)) {
      if (files.has(folder)) throw badRequest(`"${path}" needs a folder "${folder}", but "${folder}" is a file; delete it in the same commit first.`);
    }
  }
  const sorted = new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const trees = gitTreeIds(new Map([...sorted].map(([p, f]) => [p, f.oid])));
  const date = request.date ?? new Date();
  const timestamp = Math.floor(date.getTime() / 1000);
  const description = request.description ?? '';
  const parents = parent ? [parent.id] : [];
  const id = gitCommitSha1({
    tree: trees.get('')!,
    parents,
    authorName: request.author,
    authorEmail: `${request.author}@users.noreply.localhost`,
    timestamp,
    message: description ? `${request.title}\n\n${description}` : request.title,
  });
  const stored: Record<string, StoredFile> = {};
  for (const [path, file] of sorted) {
    const before = parent?.files[path];
    stored[path] = { ...file, lastCommit: before && before.oid === file.oid ? before.lastCommit : id };
  }
  return {
    id,
    parents,
    title: request.title,
    description,
    author: request.author,
    date: new Date(timestamp * 1000).toISOString(),
    tree: trees.get('')!,
    files: stored,
    trees: Object.fromEntries(trees),
  };
}

