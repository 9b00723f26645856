import { copyFile, lstat, mkdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { tempSibling, writeFileAtomic } from '@modular-diffusers/atomic-file';
import { HubError } from './hub-errors.js';
import type { RepoRef } from './repo-ref.js';

export const COMMIT_SHA = /^[0-9a-f]{40}$/;
/** Blob names the Hub gives: a git blob sha1 (40 hex) or an LFS sha256 (64 hex). */
export const BLOB_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A blob name that came from the Hub (a listing's `oid`, an etag) before it
 * names a file: anything but 40 or 64 lowercase hex could climb out of
 * `blobs/` or skip the hash check.
 */
export function assertBlobName(etag: string, repo: string, path?: string): void {
  if (typeof etag !== 'string' || !BLOB_NAME.test(etag)) {
    throw new HubError(
      `The Hub gave ${JSON.stringify(etag)} as the id of ${path ?? 'a file'} of ${repo}; a blob id must be 40 or 64 lowercase hex characters (git sha1 or sha256), so it is not used as a file name. Is HF_ENDPOINT a Hugging Face Hub?`,
    );
  }
}

/**
 * A revision as git allows a ref name (`git check-ref-format`), or a commit
 * sha: no `..`, no part starting with `.` or ending with `.lock`, no `@{`,
 * spaces, control characters or `~^:?*[\\`, no empty part. It becomes a
 * path under `refs/`, so anything else is refused before it reaches the disk.
 */
export function isValidRevision(revision: string): boolean {
  if (typeof revision !== 'string' || revision === '' || revision === '@' || revision.length > 255) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(revision) || revision.includes('..') || revision.includes('@{')) return false;
  if (revision.startsWith('/') || revision.endsWith('/') || revision.endsWith('.')) return false;
  return revision.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

export function assertRevision(revision: string, repo: string): void {
  if (!isValidRevision(revision)) {
    throw new HubError(
      `${JSON.stringify(revision)} is not a valid revision of ${repo}: use a branch or tag name as git allows them (no "..", no part starting with "." or ending with ".lock", no spaces or ~^:?*[\\) or a full 40-character commit sha.`,
    );
  }
}

function assertCommit(commit: string, repo: string): void {
  if (!COMMIT_SHA.test(commit)) throw new HubError(`${JSON.stringify(commit)} is not a commit sha of ${repo} (40 lowercase hex characters); it is not used as a cache folder name.`);
}

/**
 * The layout Python's `huggingface_hub` writes and reads, so either side can
 * reuse the other's downloads:
 * `<cache>/models--org--name/{blobs/<etag>, snapshots/<commit>/<path> -> ../../blobs/<etag>, refs/<revision>}`.
 */
export class CacheLayout {
  readonly repoDir: string;

  constructor(
    readonly cacheDir: string,
    readonly repo: RepoRef,
  ) {
    this.repoDir = join(resolve(cacheDir), repo.folderName);
  }

  blobPath(etag: string): string {
    assertBlobName(etag, this.repo.designation);
    return join(this.repoDir, 'blobs', etag);
  }

  /**
   * The lock Python's `huggingface_hub` takes while it writes a blob:
   * `<cache>/.locks/<repo folder>/<etag>.lock` (an OS lock, see os-file-lock.ts).
   */
  lockPath(etag: string): string {
    assertBlobName(etag, this.repo.designation);
    return join(resolve(this.cacheDir), '.locks', this.repo.folderName, `${etag}.lock`);
  }

  snapshotDir(commit: string): string {
    assertCommit(commit, this.repo.designation);
    return join(this.repoDir, 'snapshots', commit);
  }

  /** Where a repo file appears inside a snapshot; the path is checked again here, whoever gave it. */
  pointerPath(commit: string, path: string): string {
    assertRepoPath(path, this.repo.designation);
    return join(this.snapshotDir(commit), ...path.split('/'));
  }

  /** `refs/<revision>`; a revision such as `refs/pr/1` nests, as in Python. */
  refPath(revision: string): string {
    assertRevision(revision, this.repo.designation);
    return join(this.repoDir, 'refs', ...revision.split('/'));
  }

  /** The commit a branch or tag pointed to when last resolved, if the cache knows it. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(this.refPath(revision), 'utf8')).trim();
      return COMMIT_SHA.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Python writes the bare sha with no newline; so do we. */
  async writeRef(revision: string, commit: string): Promise<void> {
    if ((await this.readRef(revision)) === commit) return;
    await writeFileAtomic(this.refPath(revision), commit);
  }

  /** Python's marker that a file does not exist at a commit: `.no_exist/<commit>/<path>`. */
  noExistPath(commit: string, path: string): string {
    assertCommit(commit, this.repo.designation);
    assertRepoPath(path, this.repo.designation);
    return join(this.repoDir, '.no_exist', commit, ...path.split('/'));
  }

  /** Best effort: a marker only saves a request, and a path that is a folder in the repo cannot get one. */
  async markMissing(commit: string, paths: readonly string[]): Promise<void> {
    for (const path of paths) await writeFileAtomic(this.noExistPath(commit, path), '').catch(() => undefined);
  }

  async isMarkedMissing(commit: string, path: string): Promise<boolean> {
    try {
      return (await stat(this.noExistPath(commit, path))).isFile();
    } catch {
      return false;
    }
  }

  /** True when the snapshot entry exists and leads to a file (a dangling link is a miss). */
  async hasFile(commit: string, path: string): Promise<boolean> {
    try {
      return (await stat(this.pointerPath(commit, path))).isFile();
    } catch {
      return false;
    }
  }

  /** The blob a snapshot entry links to, or undefined for a copied file (no symlinks on this system). */
  async linkedBlob(commit: string, path: string): Promise<string | undefined> {
    const pointer = this.pointerPath(commit, path);
    if (!(await lstat(pointer)).isSymbolicLink()) return undefined;
    return resolve(dirname(pointer), await readlink(pointer));
  }

  /**
   * Points `snapshots/<commit>/<path>` at a blob with a relative symlink, as
   * Python does, so the cache still works after it is moved. The link is made
   * under a temporary name and renamed over the old one, so a concurrent
   * loader never sees the entry missing. Where symlinks are not allowed
   * (Windows without developer mode) the blob is copied instead.
   */
  async linkSnapshotFile(commit: string, path: string, blobPath: string): Promise<string> {
    const pointer = this.pointerPath(commit, path);
    await mkdir(dirname(pointer), { recursive: true });
    const temp = tempSibling(pointer);
    try {
      try {
        await symlink(relative(dirname(pointer), blobPath), temp);
      } catch (error) {
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
        await copyFile(blobPath, temp);
      }
      await rename(temp, pointer);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return pointer;
  }
}

/**
 * Refuses a repo path that could leave the snapshot folder (`..`, absolute,
 * backslashes) before it is joined to a local path: file names come from the
 * caller and from the Hub's listing, and neither is trusted with the disk.
 */
export function assertRepoPath(path: string, repo: string): void {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new HubError(`"${path}" is not a valid file path in ${repo}: use a relative path with "/" separators and no "." or ".." parts (e.g. "unet/config.json").`);
  }
  if (sep === '\\' && /[<>:"|?*]/.test(path)) {
    throw new HubError(`"${path}" of ${repo} cannot be stored on this system: it contains characters Windows does not allow in file names.`);
  }
}
