import { listFiles, pathsInfo, type ListFileEntry, type PathInfo } from '@huggingface/hub';
import { assertBlobName, assertRepoPath } from './cache-layout.js';
import { EntryNotFoundError, HubRequestError } from './hub-errors.js';
import type { HubSession } from './hub-session.js';

/** A file of a commit as the cache needs it: where it goes and what its blob is called. */
export interface RemoteFile {
  path: string;
  size: number;
  /** The blob name: sha256 for LFS files, git blob sha1 otherwise (xet hash as a last resort), as Python names them. */
  etag: string;
}

function toRemoteFile(entry: PathInfo | ListFileEntry, session: HubSession): RemoteFile {
  const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid;
  if (!etag) throw new HubRequestError(`The Hub gave no id for ${entry.path} of ${session.repo.designation}, so it cannot be cached; is HF_ENDPOINT a Hugging Face Hub?`);
  assertRepoPath(entry.path, session.repo.designation);
  assertBlobName(etag, session.repo.designation, entry.path);
  const size = entry.lfs?.size ?? entry.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new HubRequestError(`The Hub gave ${JSON.stringify(size)} as the size of ${entry.path} of ${session.repo.designation}; is HF_ENDPOINT a Hugging Face Hub?`);
  return { path: entry.path, size: entry.lfs?.size ?? entry.size, etag };
}

const PATHS_PER_REQUEST = 100;

/** Describes named files of a commit (one request per hundred); a missing path is an {@link EntryNotFoundError}. */
export async function describeFiles(session: HubSession, commit: string, revision: string, paths: readonly string[]): Promise<RemoteFile[]> {
  const found = new Map<string, PathInfo>();
  for (let i = 0; i < paths.length; i += PATHS_PER_REQUEST) {
    const batch = paths.slice(i, i + PATHS_PER_REQUEST);
    const entries = await session.metadata(revision, () => pathsInfo({ ...session.params, repo: session.repo.designation, paths: batch, revision: commit }));
    for (const entry of entries) found.set(entry.path, entry);
  }
  const missing = paths.filter((p) => !found.has(p));
  if (missing.length > 0) throw new EntryNotFoundError(session.repo.designation, revision, missing);
  const folders = paths.filter((p) => found.get(p)!.type === 'directory');
  if (folders.length > 0) {
    throw new EntryNotFoundError(session.repo.designation, revision, folders, 'folder');
  }
  return paths.map((p) => toRemoteFile(found.get(p)!, session));
}

/** Every file of a commit, following the listing's pages. */
export async function listRemoteFiles(session: HubSession, commit: string, revision: string): Promise<RemoteFile[]> {
  return session.metadata(revision, async () => {
    const files: RemoteFile[] = [];
    for await (const entry of listFiles({ ...session.params, repo: session.repo.designation, recursive: true, revision: commit })) {
      if (entry.type === 'file') files.push(toRemoteFile(entry, session));
    }
    return files;
  });
}
