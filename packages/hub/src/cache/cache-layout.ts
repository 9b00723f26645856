import { copyFile, lstat, mkdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { tempSibling, writeFileAtomic } from './atomic-file.js';
import { HubError } from './hub-errors.js';
import type { RepoRef } from './repo-ref.js';

export const COMMIT_SHA = /^[0-9a-f]{40}$/;

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
    return join(this.repoDir, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.repoDir, 'snapshots', commit);
  }

  /** Where a repo file appears inside a snapshot; the path was checked by {@link assertRepoPath}. */
  pointerPath(commit: string, path: string): string {
    return join(this.snapshotDir(commit), ...path.split('/'));
  }

  /** `refs/<revision>`; a revision such as `refs/pr/1` nests, as in Python. */
  refPath(revision: string): string {
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
