import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@modular-diffusers/atomic-file';
import { COMMIT_SHA } from './cache-layout.js';
import { withFileLock } from './file-lock.js';
import { HubError } from './hub-errors.js';
import { migrateLegacyProjectDir, type ProjectLocation } from './project-dir.js';
import { RemoteCodeChangedError, type RemoteCodeFileChange } from './remote-code-lock-errors.js';

/** The lock file's name inside this project's own folder (see RemoteCodeLock). */
export const REMOTE_CODE_LOCK_FILE = 'remote-code.lock.json';

/** What was trusted for one repo. */
export interface RemoteCodePin {
  /** The commit the trusted code was loaded from. */
  commit: string;
  /** The revision the load asked for (branch, tag or commit); null for a pin migrated from version 1, which did not record it. */
  revision: string | null;
  /**
   * sha256 (hex) of every file the code loads or is configured by, by path in the repo: the
   * bundle(s), `modular_config.json`, and the model index (`modular_model_index.json` or
   * `model_index.json`) when the repo has one.
   */
  files: Record<string, string>;
  /** When the pin was last written (ISO 8601). */
  trustedAt: string;
}

/** What one load found: the commit it resolved to and the hashes of the same kinds of files. */
export interface RemoteCodeObservation {
  commit: string;
  /** The revision the caller asked for; `main` when none. */
  revision: string;
  files: Record<string, string>;
}

/** How an observation compares with the lock. */
export type RemoteCodeLockCheck =
  | { status: 'new' }
  | { status: 'pinned'; pin: RemoteCodePin }
  | { status: 'changed'; pin: RemoteCodePin; changedFiles: RemoteCodeFileChange[]; commitMoved: boolean };

interface LockFileV2 {
  version: 2;
  repos: Record<string, RemoteCodePin>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const validFiles = (files: unknown): files is Record<string, string> =>
  isRecord(files) && Object.values(files).every((sha) => typeof sha === 'string' && SHA256.test(sha));

/**
 * The remote-code lock: per trusted repo, the commit its code was loaded from and the sha256 of
 * every file that code loads or is configured by. A later load that resolves to another commit,
 * or finds a recorded file changed, is refused until the caller accepts the change
 * (`trustRemoteCode: { update: true }`, `modular run --update-trust`), names the new commit
 * explicitly (`revision: '<sha>'`), or revokes the pin (`modular trust revoke`).
 *
 * It lives in this project's own folder, outside the HF cache (`hub/`):
 * `$HF_HOME/modular-diffusers/remote-code.lock.json` (`HubConfig.projectDir`). A lock that
 * older versions kept at `<HF_HUB_CACHE>/modular-diffusers/` is merged into it on first use
 * (its pins keep their meaning; a pin already at the new place wins) and removed. Format (version 2):
 *
 * ```json
 * { "version": 2,
 *   "repos": { "org/name": { "commit": "<40 hex>", "revision": "main", "trustedAt": "<ISO 8601>",
 *     "files": { "block.js": "<sha256>", "modular_config.json": "<sha256>", "modular_model_index.json": "<sha256>" } } } }
 * ```
 *
 * Version 1 files (`{ version: 1, repos: { repo: { commit, files, pinnedAt } } }`, bundle hashes
 * only) are read as pins with an unknown revision; the first load of the same commit records the
 * config and index hashes they lack, and the file is written back as version 2.
 */
export class RemoteCodeLock {
  readonly path: string;

  /** `location`: a {@link HubConfig} (`projectDir`, and `cacheDir` for the migration), or the folders themselves. */
  constructor(private readonly location: ProjectLocation) {
    this.path = join(location.projectDir, REMOTE_CODE_LOCK_FILE);
  }

  /** Every pin, by repo. An absent file is an empty lock. */
  async read(): Promise<Record<string, RemoteCodePin>> {
    await migrateLegacyProjectDir(this.location);
    return this.readFile();
  }

  private readFile(): Promise<Record<string, RemoteCodePin>> {
    return readLockFile(this.path);
  }

  async get(repo: string): Promise<RemoteCodePin | undefined> {
    const repos = await this.read();
    return Object.hasOwn(repos, repo) ? repos[repo] : undefined;
  }

  /** Compares what a load found with the pin, without changing anything. */
  async check(repo: string, observed: RemoteCodeObservation): Promise<RemoteCodeLockCheck> {
    assertObservation(observed);
    const pin = await this.get(repo);
    return pin ? compare(pin, observed) : { status: 'new' };
  }

  /**
   * Throws RemoteCodeChangedError when the observation differs from the pin, naming the old and
   * new commit and the changed files. Returns the check otherwise ('new' or 'pinned').
   */
  async verify(repo: string, observed: RemoteCodeObservation): Promise<RemoteCodeLockCheck> {
    const check = await this.check(repo, observed);
    if (check.status === 'changed') throw this.changedError(repo, check, observed);
    return check;
  }

  /** The error `verify` throws for a changed check. */
  changedError(repo: string, check: Extract<RemoteCodeLockCheck, { status: 'changed' }>, observed: RemoteCodeObservation): RemoteCodeChangedError {
    return new RemoteCodeChangedError(repo, check.pin.commit, observed.commit, observed.revision, check.changedFiles, this.path, check.pin.revision);
  }

  /**
   * Records `observed` as the trusted code of `repo`, replacing its pin. The read-modify-write
   * runs under a lock file so that concurrent loaders keep each other's pins.
   */
  async trust(repo: string, observed: RemoteCodeObservation): Promise<RemoteCodePin> {
    assertObservation(observed);
    return this.update((repos) => {
      const pin: RemoteCodePin = { commit: observed.commit, revision: observed.revision, files: sortedFiles(observed.files), trustedAt: new Date().toISOString() };
      repos[repo] = pin;
      return pin;
    });
  }

  /** Removes the pin of `repo`; returns it, or undefined when there was none. */
  async revoke(repo: string): Promise<RemoteCodePin | undefined> {
    return this.update((repos) => {
      if (!Object.hasOwn(repos, repo)) return undefined;
      const pin = repos[repo];
      delete repos[repo];
      return pin;
    });
  }

  private async update<T>(change: (repos: Record<string, RemoteCodePin>) => T): Promise<T> {
    await migrateLegacyProjectDir(this.location);
    return this.updateFile(change);
  }

  private async updateFile<T>(change: (repos: Record<string, RemoteCodePin>) => T): Promise<T> {
    return withFileLock(`${this.path}.lock`, {}, async () => {
      const repos = await this.readFile();
      const result = change(repos);
      const sorted = Object.fromEntries(Object.keys(repos).sort().map((k) => [k, repos[k]!]));
      const content: LockFileV2 = { version: 2, repos: sorted };
      await writeJsonAtomic(this.path, content);
      return result;
    });
  }

  /**
   * Merges the pins of an older lock file (read with the same rules, version 1 or 2) into this one,
   * under this lock's lock file, then deletes the old file. Pins already here win; the others keep
   * their commit, revision (null for version 1), hashes and date, so they mean what they meant.
   */
  static async migrateFrom(legacyPath: string, location: ProjectLocation): Promise<void> {
    const old = await readLockFile(legacyPath);
    await new RemoteCodeLock({ projectDir: location.projectDir }).updateFile((repos) => {
      for (const [repo, pin] of Object.entries(old)) if (!Object.hasOwn(repos, repo)) repos[repo] = pin;
    });
    await rm(legacyPath, { force: true });
  }

}

async function readLockFile(path: string): Promise<Record<string, RemoteCodePin>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw damagedLock(path, `is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(content) || !isRecord(content.repos)) throw damagedLock(path, 'does not have the expected shape');
  const repos: Record<string, RemoteCodePin> = {};
  for (const [repo, raw] of Object.entries(content.repos)) {
    if (!isRecord(raw) || typeof raw.commit !== 'string' || !COMMIT_SHA.test(raw.commit) || !validFiles(raw.files)) {
      throw damagedLock(path, `has a malformed entry for ${JSON.stringify(repo)}`);
    }
    if (content.version === 1) {
      repos[repo] = { commit: raw.commit, revision: null, files: { ...raw.files }, trustedAt: typeof raw.pinnedAt === 'string' ? raw.pinnedAt : '' };
    } else if (content.version === 2) {
      if (!(raw.revision === null || typeof raw.revision === 'string') || typeof raw.trustedAt !== 'string') {
        throw damagedLock(path, `has a malformed entry for ${JSON.stringify(repo)}`);
      }
      repos[repo] = { commit: raw.commit, revision: raw.revision, files: { ...raw.files }, trustedAt: raw.trustedAt };
    } else {
      throw damagedLock(path, `has version ${JSON.stringify(content.version)}; this version of @modular-diffusers/hub reads versions 1 and 2`);
    }
  }
  return repos;
}

function damagedLock(path: string, problem: string): HubError {
  return new HubError(
    `The remote-code lock file ${path} ${problem}: fix it, or delete it (or \`modular trust revoke <repo>\`) to trust remote code anew. ` +
      'Expected { "version": 2, "repos": { "org/name": { "commit", "revision", "files": { "<path>": "<sha256>" }, "trustedAt" } } }.',
  );
}

function compare(pin: RemoteCodePin, observed: RemoteCodeObservation): RemoteCodeLockCheck {
  const commitMoved = pin.commit !== observed.commit;
  const changedFiles: RemoteCodeFileChange[] = [];
  const paths = [...new Set([...Object.keys(pin.files), ...Object.keys(observed.files)])].sort();
  for (const path of paths) {
    const pinned = Object.hasOwn(pin.files, path) ? pin.files[path]! : null;
    const actual = Object.hasOwn(observed.files, path) ? observed.files[path]! : null;
    if (pinned === actual) continue;
    // A version-1 pin recorded bundles only: under its own commit, the files it lacks are recorded now.
    if (pin.revision === null && !commitMoved && pinned === null) continue;
    changedFiles.push({ path, pinnedSha256: pinned, actualSha256: actual });
  }
  if (!commitMoved && changedFiles.length === 0) return { status: 'pinned', pin };
  return { status: 'changed', pin, changedFiles, commitMoved };
}

function sortedFiles(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]!]));
}

function assertObservation(observed: RemoteCodeObservation): void {
  if (!COMMIT_SHA.test(observed.commit)) throw new HubError(`"${observed.commit}" is not a commit sha: pin remote code by the full 40-character commit it was loaded from.`);
  for (const [path, sha] of Object.entries(observed.files)) {
    if (!SHA256.test(sha)) throw new HubError(`The sha256 given for ${path} ("${sha}") is not 64 lowercase hex characters: hash the file's bytes with sha256.`);
  }
}
