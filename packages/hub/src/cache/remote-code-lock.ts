import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { COMMIT_SHA } from './cache-layout.js';
import { withFileLock } from './file-lock.js';
import { HubError, RemoteCodeChangedError } from './hub-errors.js';
import { projectCacheDir } from './listing-cache.js';

/** What was trusted for one repo: the commit and the sha256 of each code file loaded from it. */
export interface RemoteCodePin {
  commit: string;
  files: Record<string, string>;
  pinnedAt: string;
}

interface LockFileContent {
  version: 1;
  repos: Record<string, RemoteCodePin>;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * `<cacheDir>/modular-diffusers/remote-code.lock.json`: remote code that was
 * trusted, pinned by commit and content hash. Files of a commit never change
 * on the Hub, so a different hash under the same commit means the cache or a
 * mirror was tampered with, and the code must not run.
 */
export class RemoteCodeLock {
  readonly path: string;

  constructor(cacheDir: string) {
    this.path = join(projectCacheDir(cacheDir), 'remote-code.lock.json');
  }

  async read(): Promise<Record<string, RemoteCodePin>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    let content: Partial<LockFileContent>;
    try {
      content = JSON.parse(text) as Partial<LockFileContent>;
    } catch (error) {
      throw new HubError(`The remote-code lock file ${this.path} is not valid JSON (${(error as Error).message}): fix it, or delete it to trust remote code anew.`);
    }
    const repos = content.repos;
    const valid =
      content.version === 1 &&
      typeof repos === 'object' &&
      repos !== null &&
      Object.values(repos).every(
        (pin) => typeof pin === 'object' && pin !== null && COMMIT_SHA.test(pin.commit) && typeof pin.files === 'object' && pin.files !== null && Object.values(pin.files).every((sha) => typeof sha === 'string' && SHA256.test(sha)),
      );
    if (!valid) throw new HubError(`The remote-code lock file ${this.path} does not have the expected shape ({ version: 1, repos: { "org/name": { commit, files: { path: sha256 } } } }): fix it, or delete it to trust remote code anew.`);
    return repos!;
  }

  async get(repo: string): Promise<RemoteCodePin | undefined> {
    const repos = await this.read();
    return Object.hasOwn(repos, repo) ? repos[repo] : undefined;
  }

  /**
   * `pinned` when the file is pinned with this hash under this commit,
   * `unpinned` when nothing is pinned for it yet (or the repo moved to another
   * commit); throws {@link RemoteCodeChangedError} when the same commit's file changed.
   */
  async checkPinned(repo: string, commit: string, path: string, sha256: string): Promise<'pinned' | 'unpinned'> {
    assertIds(commit, { [path]: sha256 });
    const pin = await this.get(repo);
    if (!pin || pin.commit !== commit || !Object.hasOwn(pin.files, path)) return 'unpinned';
    if (pin.files[path] !== sha256) throw new RemoteCodeChangedError(repo, commit, path, pin.files[path], sha256, this.path);
    return 'pinned';
  }

  /**
   * Records trusted files of a commit. Files already pinned under the same
   * commit must keep their hash; a new commit replaces the repo's pin. The
   * read-modify-write runs under a lock so concurrent loaders keep each other's pins.
   */
  async pin(repo: string, commit: string, files: Record<string, string>): Promise<RemoteCodePin> {
    assertIds(commit, files);
    return withFileLock(`${this.path}.lock`, {}, async () => {
      const repos = await this.read();
      const previous = Object.hasOwn(repos, repo) && repos[repo].commit === commit ? repos[repo] : undefined;
      for (const [path, sha] of Object.entries(files)) {
        const pinned = previous?.files[path];
        if (pinned !== undefined && pinned !== sha) throw new RemoteCodeChangedError(repo, commit, path, pinned, sha, this.path);
      }
      const pin: RemoteCodePin = { commit, files: { ...previous?.files, ...files }, pinnedAt: new Date().toISOString() };
      const content: LockFileContent = { version: 1, repos: { ...repos, [repo]: pin } };
      await writeFileAtomic(this.path, `${JSON.stringify(content, null, 2)}\n`);
      return pin;
    });
  }
}

function assertIds(commit: string, files: Record<string, string>): void {
  if (!COMMIT_SHA.test(commit)) throw new HubError(`"${commit}" is not a commit sha: pin remote code by the full 40-character commit it was loaded from.`);
  for (const [path, sha] of Object.entries(files)) {
    if (!SHA256.test(sha)) throw new HubError(`The sha256 given for ${path} ("${sha}") is not 64 lowercase hex characters: hash the file's bytes with sha256.`);
  }
}
