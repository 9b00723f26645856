import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { moveIntoPlace, tempPath, writeFileAtomic, writeJsonAtomic } from '@modular-diffusers/atomic-file';
import { buildCommit, type CommitContent, type CommitOperation, type ObjectWriter } from './build-commit.js';
import { gitBlobSha1 } from './git-objects.js';
import { DEFAULT_GITATTRIBUTES } from './gitattributes.js';
import { HubHttpError, HubServerError, badRequest, revisionNotFound } from './hub-server-error.js';
import { KeyedLock } from './keyed-lock.js';
import { repoFullName, repoKey, type HubRepoId } from './repo-id.js';
import {
  DEFAULT_BRANCH,
  type CommitRecord,
  type RefsRecord,
  type RepoRecord,
  type StoredFile,
} from './store-records.js';

export type { CommitOperation } from './build-commit.js';

export interface CommitRequest extends CommitContent {
  /** When given, the commit fails with 412 unless the branch still points here. */
  parentCommit?: string;
  /** Commit onto a new `refs/pr/<n>` ref started from `branch` instead of onto `branch`. */
  createPullRequest?: boolean;
}

export interface CommitResult {
  commit: CommitRecord;
  /** Set when the commit opened a pull request. */
  pullRequest?: number;
}

export interface ResolvedRevision {
  sha: string;
  kind: 'branch' | 'tag' | 'pull' | 'commit';
  name: string;
}

const SHA1_PATTERN = /^[0-9a-f]{40}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
// Names git accepts for refs, minus the rarer corners: no `..`, no control or
// special characters, no leading `-` or `/`, no trailing `/`, `.` or `.lock`.
const REF_NAME_PATTERN = /^(?![-/])(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[^\0-\x20~^:?*[\\\x7f]+(?<![/.])(?<!\.lock)$/;

export function assertValidRefName(name: string, what: string): void {
  const reserved = name === 'HEAD' || name === '__proto__' || name.startsWith('refs/');
  if (typeof name !== 'string' || !REF_NAME_PATTERN.test(name) || SHA1_PATTERN.test(name) || reserved) {
    throw badRequest(`Invalid ${what} name "${String(name)}": use a git ref name such as "dev" or "v1.0" (not a 40-hex sha, not "HEAD", no "..", spaces or ~^:?*[\\).`);
  }
}

/**
 * The server's storage: content-addressed objects plus JSON records per repo, under
 * one folder that survives restarts.
 *
 * ```
 * <root>/hub-store.json                      format marker
 * <root>/objects/<2>/<38>                    regular file contents, by git blob id
 * <root>/lfs/<2>/<2>/<64>                    LFS contents, by sha256
 * <root>/repos/<type>s/<ns>/<name>/repo.json
 *                                 /refs.json  branches, tags, pull requests
 *                                 /commits/<sha>.json
 *                                 /lfs-uploads.json  LFS objects uploaded through this repo
 * <root>/tmp/                                temp files, renamed into place
 * ```
 *
 * Objects and commits are written before the refs that point at them, and every
 * write is temp + rename, so a crash leaves at worst unreferenced objects. Writes to
 * one repo are serialised inside this process; do not point two live servers at one root.
 */
export class HubStore {
  private readonly commitCache = new Map<string, CommitRecord>();
  private readonly lfsCache = new Map<string, { referenced: Set<string>; uploaded: Set<string> }>();
  private readonly locks = new KeyedLock();

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<HubStore> {
    const store = new HubStore(root);
    const marker = join(root, 'hub-store.json');
    const existing = await readFile(marker, 'utf8').catch(() => undefined);
    if (existing !== undefined) {
      const format = (JSON.parse(existing) as { format?: number }).format;
      if (format !== 1) throw new HubServerError(`${root} holds a hub store of format ${format}; this server reads format 1. Point it at another folder.`);
    }
    await mkdir(store.tmpDir, { recursive: true });
    if (existing === undefined) await writeJsonAtomic(marker, { format: 1 }, { tempDir: store.tmpDir });
    await store.removeStaleTempFiles();
    return store;
  }

  get tmpDir(): string {
    return join(this.root, 'tmp');
  }

  /** Waits for writes in progress. */
  idle(): Promise<void> {
    return this.locks.idle();
  }

  // ---- objects -------------------------------------------------------------

  regularObjectPath(oid: string): string {
    return join(this.root, 'objects', oid.slice(0, 2), oid.slice(2));
  }

  lfsObjectPath(sha256: string): string {
    return join(this.root, 'lfs', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Where the bytes of a committed file live on disk. */
  contentPath(file: StoredFile): string {
    return file.lfs ? this.lfsObjectPath(file.lfs.oid) : this.regularObjectPath(file.oid);
  }

  async lfsObjectSize(sha256: string): Promise<number | undefined> {
    if (!SHA256_PATTERN.test(sha256)) return undefined;
    return stat(this.lfsObjectPath(sha256)).then((s) => s.size, () => undefined);
  }

  /**
   * The LFS objects a repo holds: those its commits reference, and those uploaded
   * through it (possession proven by sending the bytes). LFS objects are stored once
   * per server, so this, not the store, says who may use which: a repo never reaches
   * another repo's objects by naming their sha256.
   */
  private async repoLfs(repo: HubRepoId): Promise<{ referenced: Set<string>; uploaded: Set<string> }> {
    const key = repoKey(repo);
    const cached = this.lfsCache.get(key);
    if (cached) return cached;
    const referenced = new Set<string>();
    for (const name of await readdir(join(this.repoDir(repo), 'commits')).catch(() => [] as string[])) {
      const commit = await this.readCommit(repo, name.replace(/\.json$/, ''));
      for (const file of Object.values(commit?.files ?? {})) if (file.lfs) referenced.add(file.lfs.oid);
    }
    const text = await readFile(join(this.repoDir(repo), 'lfs-uploads.json'), 'utf8').catch(() => '[]');
    const uploaded = new Set((JSON.parse(text) as unknown[]).filter((oid): oid is string => typeof oid === 'string' && SHA256_PATTERN.test(oid)));
    const entry = { referenced, uploaded };
    this.lfsCache.set(key, entry);
    return entry;
  }

  /** True when a commit of `repo` references the LFS object: the only way its bytes are served for that repo. */
  async repoReferencesLfs(repo: HubRepoId, sha256: string): Promise<boolean> {
    return (await this.repoLfs(repo)).referenced.has(sha256);
  }

  /** True when `repo` may commit a pointer to the object without uploading it: it already holds it. */
  async repoHoldsLfs(repo: HubRepoId, sha256: string): Promise<boolean> {
    const { referenced, uploaded } = await this.repoLfs(repo);
    return (referenced.has(sha256) || uploaded.has(sha256)) && (await this.lfsObjectSize(sha256)) !== undefined;
  }

  /** Records that the object's bytes were sent through `repo` (an upload, or an import by the operator). */
  async grantLfs(repo: HubRepoId, sha256: string): Promise<void> {
    if (!SHA256_PATTERN.test(sha256)) throw badRequest(`LFS oid "${sha256}" is not a sha256 hex digest.`);
    await this.locks.run(repoKey(repo), async () => {
      const { uploaded } = await this.repoLfs(repo);
      if (uploaded.has(sha256)) return;
      uploaded.add(sha256);
      await writeJsonAtomic(join(this.repoDir(repo), 'lfs-uploads.json'), [...uploaded].sort(), { tempDir: this.tmpDir });
    });
  }

  private readonly objectWriter: ObjectWriter = {
    putRegular: async (content) => {
      const oid = gitBlobSha1(content);
      const target = this.regularObjectPath(oid);
      if (!(await exists(target))) await writeFileAtomic(target, content, { tempDir: this.tmpDir });
      return oid;
    },
    lfsSize: (sha256) => this.lfsObjectSize(sha256),
  };

  /**
   * Stores an LFS object from a stream, checking its sha256 and size on the way;
   * nothing lands in the store unless both match.
   */
  async putLfsObject(body: Readable | Uint8Array, expected: { oid: string; size: number }): Promise<void> {
    if (!SHA256_PATTERN.test(expected.oid)) throw badRequest(`LFS oid "${expected.oid}" is not a sha256 hex digest.`);
    const target = this.lfsObjectPath(expected.oid);
    const temp = tempPath(this.tmpDir, expected.oid);
    const hash = createHash('sha256');
    let size = 0;
    try {
      if (body instanceof Uint8Array) {
        hash.update(body);
        size = body.byteLength;
        await writeFile(temp, body);
      } else {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              size += chunk.byteLength;
              // More bytes than the object has: stop reading, whatever the client still sends.
              if (size > expected.size) {
                throw new HubHttpError(413, `The upload is larger than the ${expected.size} bytes announced for LFS object ${expected.oid}.`, 'PayloadTooLarge', { Connection: 'close' });
              }
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(temp),
        );
      }
      const actual = hash.digest('hex');
      if (actual !== expected.oid || size !== expected.size) {
        throw new HubHttpError(
          422,
          `Uploaded content does not match the LFS object: expected sha256 ${expected.oid} and ${expected.size} bytes, got ${actual} and ${size} bytes. Upload the file's exact bytes.`,
          'LfsObjectMismatch',
        );
      }
      await moveIntoPlace(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  // ---- repos and refs ------------------------------------------------------

  private repoDir(repo: HubRepoId): string {
    return join(this.root, 'repos', `${repo.type}s`, repo.namespace, repo.name);
  }

  async getRepo(repo: HubRepoId): Promise<RepoRecord | undefined> {
    const text = await readFile(join(this.repoDir(repo), 'repo.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as RepoRecord);
  }

  async readRefs(repo: HubRepoId): Promise<RefsRecord> {
    const text = await readFile(join(this.repoDir(repo), 'refs.json'), 'utf8');
    return JSON.parse(text) as RefsRecord;
  }

  /**
   * Creates a repo with an "initial commit" holding `.gitattributes` (and any
   * `files`), as the Hub does. The repo folder is assembled under tmp/ and renamed
   * into place, so a repo is either complete or absent. 409 if it exists.
   */
  async createRepo(
    repo: HubRepoId,
    options: { private?: boolean; author: string; files?: { path: string; content: Uint8Array }[]; date?: Date },
  ): Promise<{ record: RepoRecord; commit: CommitRecord }> {
    return this.locks.run(repoKey(repo), async () => {
      if (await this.getRepo(repo)) {
        throw new HubHttpError(409, `You already created this ${repo.type} repo: ${repoFullName(repo)}`, 'RepoExists');
      }
      const files: CommitOperation[] = [{ kind: 'file', path: '.gitattributes', content: Buffer.from(DEFAULT_GITATTRIBUTES) }];
      for (const f of options.files ?? []) files.push({ kind: 'file', path: f.path, content: f.content });
      const date = options.date ?? new Date();
      const commit = await buildCommit(undefined, {
        branch: DEFAULT_BRANCH,
        title: 'initial commit',
        author: options.author,
        operations: files,
        date,
      }, this.objectWriter);
      const record: RepoRecord = {
        _id: randomBytes(12).toString('hex'),
        type: repo.type,
        namespace: repo.namespace,
        name: repo.name,
        private: options.private ?? false,
        createdAt: date.toISOString(),
        author: options.author,
      };
      const staging = tempPath(this.tmpDir, `repo-${repo.name}`);
      try {
        await mkdir(join(staging, 'commits'), { recursive: true });
        await writeFile(join(staging, 'commits', `${commit.id}.json`), JSON.stringify(commit));
        await writeFile(join(staging, 'refs.json'), JSON.stringify({ branches: { [DEFAULT_BRANCH]: commit.id }, tags: {}, pulls: {} } satisfies RefsRecord));
        await writeFile(join(staging, 'repo.json'), JSON.stringify(record, null, 2));
        await mkdir(join(this.repoDir(repo), '..'), { recursive: true });
        await rename(staging, this.repoDir(repo));
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw error;
      }
      return { record, commit };
    });
  }

  async deleteRepo(repo: HubRepoId): Promise<void> {
    await this.locks.run(repoKey(repo), async () => {
      const trash = tempPath(this.tmpDir, `deleted-${repo.name}`);
      await rename(this.repoDir(repo), trash);
      this.commitCache.clear();
      this.lfsCache.delete(repoKey(repo));
      await rm(trash, { recursive: true, force: true });
    });
  }

  /**
   * A branch name, tag name, `refs/heads/x`, `refs/tags/x`, `refs/pr/n`, `HEAD` or a
   * full commit sha of this repo, to the commit it names.
   */
  async resolveRevision(repo: HubRepoId, revision: string): Promise<ResolvedRevision | undefined> {
    const refs = await this.readRefs(repo);
    if (revision === 'HEAD') revision = DEFAULT_BRANCH;
    const prefixed = /^refs\/(heads|tags|pr)\/(.+)$/.exec(revision);
    if (prefixed) {
      const table = prefixed[1] === 'heads' ? refs.branches : prefixed[1] === 'tags' ? refs.tags : refs.pulls;
      const sha = Object.hasOwn(table, prefixed[2]) ? table[prefixed[2]] : undefined;
      const kind = prefixed[1] === 'heads' ? 'branch' : prefixed[1] === 'tags' ? 'tag' : 'pull';
      return sha ? { sha, kind, name: prefixed[2] } : undefined;
    }
    if (Object.hasOwn(refs.branches, revision)) return { sha: refs.branches[revision], kind: 'branch', name: revision };
    if (Object.hasOwn(refs.tags, revision)) return { sha: refs.tags[revision], kind: 'tag', name: revision };
    if (SHA1_PATTERN.test(revision) && (await this.readCommit(repo, revision))) return { sha: revision, kind: 'commit', name: revision };
    return undefined;
  }

  async readCommit(repo: HubRepoId, sha: string): Promise<CommitRecord | undefined> {
    if (!SHA1_PATTERN.test(sha)) return undefined;
    const key = `${repoKey(repo)}@${sha}`;
    const cached = this.commitCache.get(key);
    if (cached) return cached;
    const text = await readFile(join(this.repoDir(repo), 'commits', `${sha}.json`), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const commit = JSON.parse(text) as CommitRecord;
    this.commitCache.set(key, commit);
    return commit;
  }

  /** First-parent history from `sha`, newest first. */
  async history(repo: HubRepoId, sha: string): Promise<CommitRecord[]> {
    const out: CommitRecord[] = [];
    let next: string | undefined = sha;
    while (next) {
      const commit = await this.readCommit(repo, next);
      if (!commit) break;
      out.push(commit);
      next = commit.parents[0];
    }
    return out;
  }

  // ---- commits -------------------------------------------------------------

  async commit(repo: HubRepoId, request: CommitRequest): Promise<CommitResult> {
    return this.locks.run(repoKey(repo), async () => {
      const refs = await this.readRefs(repo);
      if (!Object.hasOwn(refs.branches, request.branch)) {
        const pull = /^refs\/pr\/(\d+)$/.exec(request.branch);
        if (!pull || !Object.hasOwn(refs.pulls, pull[1]) || request.createPullRequest) throw revisionNotFound(request.branch);
      }
      const pullNumber = /^refs\/pr\/(\d+)$/.exec(request.branch)?.[1];
      const head = pullNumber ? refs.pulls[pullNumber] : refs.branches[request.branch];
      if (request.parentCommit !== undefined && request.parentCommit !== head) {
        throw new HubHttpError(
          412,
          `A commit has happened since ${request.parentCommit}: ${request.branch} is now at ${head}. Fetch the new head and try again.`,
          'PreconditionFailed',
        );
      }
      const parent = await this.readCommit(repo, head);
      if (!parent) throw new HubServerError(`The store is damaged: commit ${head} of ${repoFullName(repo)} is missing.`);
      for (const op of request.operations) {
        // Same answer as for an object nobody uploaded: whether another repo has it is not told.
        if (op.kind === 'lfsFile' && !(await this.repoHoldsLfs(repo, op.oid))) {
          throw new HubHttpError(
            422,
            `LFS object ${op.oid} for ${op.path} was never uploaded to ${repoFullName(repo)}: upload it through the LFS batch API (POST {repo}.git/info/lfs/objects/batch) before committing.`,
            'LfsObjectMissing',
          );
        }
      }
      const commit = await buildCommit(parent, request, this.objectWriter);
      await writeJsonAtomic(join(this.repoDir(repo), 'commits', `${commit.id}.json`), commit, { tempDir: this.tmpDir });
      let pullRequest: number | undefined;
      if (request.createPullRequest) {
        pullRequest = Object.keys(refs.pulls).reduce((max, n) => Math.max(max, Number(n)), 0) + 1;
        refs.pulls[String(pullRequest)] = commit.id;
      } else if (pullNumber) {
        refs.pulls[pullNumber] = commit.id;
      } else {
        refs.branches[request.branch] = commit.id;
      }
      await writeJsonAtomic(join(this.repoDir(repo), 'refs.json'), refs, { tempDir: this.tmpDir });
      for (const file of Object.values(commit.files)) if (file.lfs) this.lfsCache.get(repoKey(repo))?.referenced.add(file.lfs.oid);
      return { commit, pullRequest };
    });
  }

  // ---- branches and tags ---------------------------------------------------

  async createBranch(
    repo: HubRepoId,
    branch: string,
    options: { startingPoint?: string; overwrite?: boolean } = {},
  ): Promise<string> {
    assertValidRefName(branch, 'branch');
    return this.locks.run(repoKey(repo), async () => {
      const refs = await this.readRefs(repo);
      if (Object.hasOwn(refs.branches, branch) && !options.overwrite) {
        throw new HubHttpError(409, `Reference already exists: branch ${branch}. Pass overwrite to move it.`, 'RefExists');
      }
      const start = options.startingPoint ?? DEFAULT_BRANCH;
      const resolved = await this.resolveRevision(repo, start);
      if (!resolved) throw revisionNotFound(start);
      refs.branches[branch] = resolved.sha;
      await writeJsonAtomic(join(this.repoDir(repo), 'refs.json'), refs, { tempDir: this.tmpDir });
      return resolved.sha;
    });
  }

  async deleteBranch(repo: HubRepoId, branch: string): Promise<void> {
    await this.locks.run(repoKey(repo), async () => {
      const refs = await this.readRefs(repo);
      if (!Object.hasOwn(refs.branches, branch)) throw revisionNotFound(branch);
      if (branch === DEFAULT_BRANCH) throw new HubHttpError(403, `Cannot delete the default branch ${DEFAULT_BRANCH}.`, 'Forbidden');
      delete refs.branches[branch];
      await writeJsonAtomic(join(this.repoDir(repo), 'refs.json'), refs, { tempDir: this.tmpDir });
    });
  }

  async createTag(repo: HubRepoId, tag: string, revision: string): Promise<string> {
    assertValidRefName(tag, 'tag');
    return this.locks.run(repoKey(repo), async () => {
      const refs = await this.readRefs(repo);
      if (Object.hasOwn(refs.tags, tag)) throw new HubHttpError(409, `Reference already exists: tag ${tag}.`, 'RefExists');
      const resolved = await this.resolveRevision(repo, revision);
      if (!resolved) throw revisionNotFound(revision);
      refs.tags[tag] = resolved.sha;
      await writeJsonAtomic(join(this.repoDir(repo), 'refs.json'), refs, { tempDir: this.tmpDir });
      return resolved.sha;
    });
  }

  async deleteTag(repo: HubRepoId, tag: string): Promise<void> {
    await this.locks.run(repoKey(repo), async () => {
      const refs = await this.readRefs(repo);
      if (!Object.hasOwn(refs.tags, tag)) throw revisionNotFound(tag);
      delete refs.tags[tag];
      await writeJsonAtomic(join(this.repoDir(repo), 'refs.json'), refs, { tempDir: this.tmpDir });
    });
  }

  /** Opens the bytes of a committed file (regular content or LFS object). */
  openContent(file: StoredFile, range?: { start: number; end: number }): Readable {
    return createReadStream(this.contentPath(file), range ? { start: range.start, end: range.end } : {});
  }

  private async removeStaleTempFiles(): Promise<void> {
    // Leftovers of a crash. Only old ones: another process may be writing right now.
    const cutoff = Date.now() - 60 * 60 * 1000;
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
