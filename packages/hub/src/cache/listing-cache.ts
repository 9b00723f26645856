import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@modular-diffusers/atomic-file';
import { assertBlobName, assertRepoPath, COMMIT_SHA } from './cache-layout.js';
import { migrateLegacyProjectDir, type ProjectLocation } from './project-dir.js';
import type { RemoteFile } from './remote-files.js';
import type { RepoRef } from './repo-ref.js';

/**
 * The file list of a commit (in `<projectDir>/listings/<repo folder>/<commit>.json`), kept after a pattern-selected download. A commit
 * never changes, so its list never goes stale, and a later load with the same
 * patterns knows which files it needs without asking the Hub.
 */
export class ListingCache {
  constructor(
    private readonly location: ProjectLocation,
    private readonly repo: RepoRef,
  ) {}

  private path(commit: string): string {
    return join(this.location.projectDir, 'listings', this.repo.folderName, `${commit}.json`);
  }

  async read(commit: string): Promise<RemoteFile[] | undefined> {
    if (!COMMIT_SHA.test(commit)) return undefined;
    await migrateLegacyProjectDir(this.location);
    try {
      const parsed = JSON.parse(await readFile(this.path(commit), 'utf8')) as { files?: RemoteFile[] };
      if (!Array.isArray(parsed.files)) return undefined;
      for (const file of parsed.files) {
        if (typeof file.path !== 'string' || typeof file.etag !== 'string' || typeof file.size !== 'number') return undefined;
        assertRepoPath(file.path, this.repo.designation);
        assertBlobName(file.etag, this.repo.designation, file.path);
      }
      return parsed.files;
    } catch {
      // Unreadable or tampered: the Hub is asked again.
      return undefined;
    }
  }

  async write(commit: string, files: readonly RemoteFile[]): Promise<void> {
    await migrateLegacyProjectDir(this.location);
    await writeFileAtomic(this.path(commit), JSON.stringify({ repo: this.repo.designation, commit, files }));
  }
}
