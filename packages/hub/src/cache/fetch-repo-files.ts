import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { resolveHubConfig, type HubConfig, type HubEnv } from '../config/hub-config.js';
import { assertRepoPath, assertRevision, CacheLayout, COMMIT_SHA } from './cache-layout.js';
import { blobHashKind, hashBlobFile } from './content-hash.js';
import { ensureBlob } from './download-blob.js';
import type { FileLockOptions } from './file-lock.js';
import { cacheWriteError, EntryNotFoundError, HubCacheMissError, HubError, HubIntegrityError } from './hub-errors.js';
import { HubSession } from './hub-session.js';
import { ListingCache } from './listing-cache.js';
import { isLocalFolder, listFolderFiles } from './local-files.js';
import { filterRepoPaths } from './path-patterns.js';
import { describeFiles, listRemoteFiles, type RemoteFile } from './remote-files.js';
import { parseRepoRef, type RepoRef } from './repo-ref.js';
import { resolveRevision } from './resolve-revision.js';

export interface DownloadProgress {
  /** The file the event is about. */
  path: string;
  /** Bytes of it on disk so far (a resumed download starts above 0). */
  fileBytes: number;
  fileSize: number;
  /** Over every file this call transfers. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export interface FetchRepoFilesOptions {
  /** `org/name` (`datasets/...`, `spaces/...`), or the path of a local folder, used as is. */
  repo: string;
  /** Branch, tag or full commit sha. Default `main`. */
  revision?: string;
  /** Exact files; each must exist. */
  files?: string[];
  /** Python `fnmatch` patterns (`*` crosses `/`; `unet/` means `unet/*`) selecting from the repo listing. */
  allowPatterns?: string[];
  /** Patterns removing files that `files`/`allowPatterns` selected, e.g. `*.fp16.onnx`. */
  ignorePatterns?: string[];
  /** Overrides `HF_HUB_CACHE`. */
  cacheDir?: string;
  /** Overrides `HF_ENDPOINT`. */
  hubUrl?: string;
  /** Overrides `HF_TOKEN` and the token file. */
  accessToken?: string;
  /** Use only the cache (as `HF_HUB_OFFLINE=1`); an explicit `false` overrides the variable. */
  localFilesOnly?: boolean;
  /** Ask the Hub where a cached branch or tag points now, instead of reusing `refs/<revision>`. */
  refresh?: boolean;
  /**
   * Hash cached files against their blob names (sha256 / git sha1) before
   * returning them; a corrupt one is downloaded again (or reported offline).
   * New downloads are always checked. Default false: hashing gigabytes on every load is slow.
   */
  verify?: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Environment to read instead of `process.env`. */
  env?: HubEnv;
  /** A `fetch` for the client to use (proxies, logging). */
  fetch?: typeof fetch;
  /** Files downloaded at the same time. Default 4. */
  concurrency?: number;
  /**
   * Further attempts after a dropped connection, a 5xx, 408 or 429, for every request (revision,
   * listing, each file), and after a failed hash for a file; a file resumes. Default 2.
   */
  retries?: number;
  /** Lock timing; tests shorten it. */
  lock?: Omit<FileLockOptions, 'signal'>;
}

export interface FetchedFile {
  /** Path inside the repo, `/`-separated. */
  path: string;
  /** Where it is on disk: `snapshots/<commit>/<path>`, or inside the local folder. */
  localPath: string;
  size: number;
}

export interface FetchedRepo {
  repo: string;
  revision: string;
  /** The folder that holds the selected files under their repo paths. */
  snapshotDir: string;
  /** The commit the files come from; undefined for a local folder. */
  commit: string | undefined;
  files: FetchedFile[];
  /** Files this call transferred from the Hub (empty when everything was cached). */
  downloaded: string[];
  /** True when `repo` was a local folder. */
  local: boolean;
}

interface Selection {
  files: string[];
  allowPatterns: string[] | undefined;
  ignorePatterns: string[] | undefined;
  /** Whether the repo listing is needed to know the files. */
  needsListing: boolean;
}

function selectionOf(options: FetchRepoFilesOptions, repo: string): Selection {
  const files = [...new Set(options.files ?? [])];
  for (const path of files) assertRepoPath(path, repo);
  const needsListing = options.allowPatterns !== undefined || options.files === undefined;
  return { files, allowPatterns: options.allowPatterns, ignorePatterns: options.ignorePatterns, needsListing };
}

/** The paths a selection picks from a file list, explicit files first; an explicit file absent from the list is an error. */
function pick(selection: Selection, available: readonly string[], repo: string, revision: string): string[] {
  const present = new Set(available);
  const missing = selection.files.filter((f) => !present.has(f));
  if (missing.length > 0) throw new EntryNotFoundError(repo, revision, missing);
  const byPattern = selection.needsListing ? filterRepoPaths(available, selection.allowPatterns) : [];
  return filterRepoPaths([...new Set([...selection.files, ...byPattern])], undefined, selection.ignorePatterns);
}

function describeSelection(selection: Selection): string[] {
  if (selection.allowPatterns === undefined && selection.files.length === 0) return ['(all files)'];
  return [...selection.files, ...(selection.allowPatterns ?? []).map((p) => `files matching ${p}`)];
}

/**
 * Downloads the selected files of a repo revision into the Hugging Face cache,
 * in exactly the layout Python's `huggingface_hub` writes, and returns where they are.
 *
 * A branch or tag is resolved to a commit first (`refs/<revision>` remembers
 * it); a revision whose files are all in `snapshots/<commit>` is then served
 * with no request at all. Offline (`HF_HUB_OFFLINE`, `localFilesOnly`) only
 * the cache is used. A `repo` that is an existing folder is used as is.
 */
export async function fetchRepoFiles(options: FetchRepoFilesOptions): Promise<FetchedRepo> {
  options.signal?.throwIfAborted();
  const revision = options.revision ?? 'main';
  if (await isLocalFolder(options.repo)) return fetchLocalFolder(options, revision);

  const repo = parseRepoRef(options.repo);
  assertRevision(revision, repo.designation);
  const selection = selectionOf(options, repo.designation);
  const config = resolveHubConfig({ env: options.env, hubUrl: options.hubUrl, accessToken: options.accessToken, cacheDir: options.cacheDir, offline: options.localFilesOnly });
  try {
    return await fetchThroughCache(options, revision, repo, selection, config);
  } catch (error) {
    // A full disk or an unwritable cache is said as such, never as a connection problem.
    throw cacheWriteError(error, config.cacheDir) ?? error;
  }
}

async function fetchThroughCache(options: FetchRepoFilesOptions, revision: string, repo: RepoRef, selection: Selection, config: HubConfig): Promise<FetchedRepo> {
  const layout = new CacheLayout(config.cacheDir, repo);
  const listings = new ListingCache(config, repo);
  const isSha = COMMIT_SHA.test(revision);

  // 1. The cache alone, without a request.
  let commit = isSha ? revision : options.refresh && !config.offline ? undefined : await layout.readRef(revision);
  let listing = commit ? await listings.read(commit) : undefined;
  if (commit) {
    // A file the Hub already said is absent at this commit (Python's `.no_exist` marker) needs no new request.
    const knownAbsent: string[] = [];
    for (const path of selection.files) if (await layout.isMarkedMissing(commit, path)) knownAbsent.push(path);
    if (knownAbsent.length > 0) throw new EntryNotFoundError(repo.designation, revision, knownAbsent);
    const cached = await cachedState(layout, commit, selection, listing, repo, revision, config.offline);
    if (cached.paths && cached.missing.length === 0) {
      const corrupt = options.verify ? await corruptFiles(layout, commit, cached.paths) : [];
      if (corrupt.length === 0) return result(layout, options.repo, revision, commit, cached.paths, []);
      if (config.offline) throw corrupt[0];
      // Delete the bad blobs, then download them again like missing files.
      for (const error of corrupt) await rm(layout.blobPath(error.expected), { force: true });
    }
    if (config.offline) throw new HubCacheMissError(repo.designation, revision, cached.missing.length > 0 ? cached.missing : describeSelection(selection), config.cacheDir);
  } else if (config.offline) {
    throw new HubCacheMissError(repo.designation, revision, describeSelection(selection), config.cacheDir);
  }

  // 2. The Hub: resolve, describe what is missing, download it.
  const inner = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, inner.signal]) : inner.signal;
  const live = new HubSession(repo, config, signal, options.fetch, options.retries ?? 2);
  if (!commit) {
    commit = isSha ? revision : await resolveRevision(live, revision);
    listing = await listings.read(commit);
  }
  let remote: RemoteFile[];
  let paths: string[];
  try {
    ({ remote, paths } = await describeSelected(live, layout, commit, revision, selection, listing, listings));
  } catch (error) {
    if (error instanceof EntryNotFoundError && error.reason === 'missing' && error.paths.every((p) => selection.files.includes(p))) {
      // Remembered as Python does, with the ref, so asking again costs no request.
      await layout.markMissing(commit, error.paths);
      await mkdir(layout.snapshotDir(commit), { recursive: true });
      if (!isSha) await layout.writeRef(revision, commit);
    }
    throw error;
  }
  const wanted: RemoteFile[] = [];
  for (const file of remote) {
    // With a listing every selected file is described: keep only those not linked yet.
    if (!(await layout.hasFile(commit, file.path)) || !(await blobMatchesLink(layout, commit, file))) wanted.push(file);
  }
  const downloaded = await downloadAll(wanted, { options, layout, commit, revision, session: live, inner });
  await mkdir(layout.snapshotDir(commit), { recursive: true });
  // Written last, after the snapshot exists: a ref to a missing snapshot is what cache scanners report as corrupt.
  if (!isSha) await layout.writeRef(revision, commit);
  return result(layout, options.repo, revision, commit, paths, downloaded);
}

/** The selected paths and, for those not in the snapshot yet, what the Hub says they are. */
async function describeSelected(
  session: HubSession,
  layout: CacheLayout,
  commit: string,
  revision: string,
  selection: Selection,
  cachedListing: RemoteFile[] | undefined,
  listings: ListingCache,
): Promise<{ remote: RemoteFile[]; paths: string[] }> {
  if (!selection.needsListing) {
    const paths = filterRepoPaths(selection.files, undefined, selection.ignorePatterns);
    const absent: string[] = [];
    for (const path of paths) if (!(await layout.hasFile(commit, path))) absent.push(path);
    return { remote: await describeFiles(session, commit, revision, absent), paths };
  }
  let listing = cachedListing;
  if (!listing) {
    listing = await listRemoteFiles(session, commit, revision);
    await listings.write(commit, listing);
  }
  const paths = pick(selection, listing.map((f) => f.path), session.repo.designation, revision);
  const byPath = new Map(listing.map((f) => [f.path, f]));
  return { remote: paths.map((p) => byPath.get(p)!), paths };
}

/** False when the snapshot entry points at a blob other than the file's (e.g. a blob deleted as corrupt). */
async function blobMatchesLink(layout: CacheLayout, commit: string, file: RemoteFile): Promise<boolean> {
  const linked = await layout.linkedBlob(commit, file.path).catch(() => undefined);
  return linked === undefined || basename(linked) === file.etag;
}

interface CachedState {
  /** The selected paths, when the cache alone can tell them. */
  paths: string[] | undefined;
  missing: string[];
}

async function cachedState(
  layout: CacheLayout,
  commit: string,
  selection: Selection,
  listing: RemoteFile[] | undefined,
  repo: RepoRef,
  revision: string,
  offline: boolean,
): Promise<CachedState> {
  let paths: string[] | undefined;
  if (!selection.needsListing) {
    paths = filterRepoPaths(selection.files, undefined, selection.ignorePatterns);
  } else if (listing) {
    try {
      paths = pick(selection, listing.map((f) => f.path), repo.designation, revision);
    } catch {
      paths = undefined;
    }
  } else if (offline) {
    // A snapshot another tool filled has no listing: offline, what it holds is the repo, as Python treats it.
    const held = (await listFolderFiles(layout.snapshotDir(commit))).map((f) => f.path);
    const absentFiles = selection.files.filter((f) => !held.includes(f));
    if (absentFiles.length > 0) return { paths: undefined, missing: absentFiles };
    const picked = pick(selection, held, repo.designation, revision);
    return picked.length > 0 ? { paths: picked, missing: [] } : { paths: undefined, missing: [] };
  }
  if (!paths) return { paths: undefined, missing: [] };
  const missing: string[] = [];
  for (const path of paths) if (!(await layout.hasFile(commit, path))) missing.push(path);
  return { paths, missing };
}

/** Cached files whose bytes no longer hash to their blob name. */
async function corruptFiles(layout: CacheLayout, commit: string, paths: readonly string[]): Promise<HubIntegrityError[]> {
  const corrupt: HubIntegrityError[] = [];
  for (const path of paths) {
    const blob = await layout.linkedBlob(commit, path);
    if (!blob) continue;
    const etag = basename(blob);
    const actual = await hashBlobFile(blob, blobHashKind(etag));
    if (actual !== undefined && actual !== etag) {
      corrupt.push(new HubIntegrityError(layout.repo.designation, path, etag, actual, `The cached blob ${blob} is damaged: go online to download it again (unset HF_HUB_OFFLINE), or delete it.`));
    }
  }
  return corrupt;
}

interface DownloadContext {
  options: FetchRepoFilesOptions;
  layout: CacheLayout;
  commit: string;
  revision: string;
  session: HubSession;
  inner: AbortController;
}

/** Downloads files a few at a time, returning those it transferred; the first failure stops the others and is the one thrown. */
async function downloadAll(files: RemoteFile[], ctx: DownloadContext): Promise<string[]> {
  const { options, layout, commit } = ctx;
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const progress = new Map<string, number>();
  let bytes = 0;
  let filesDone = 0;
  const report = (file: RemoteFile, fileBytes: number): void => {
    bytes += fileBytes - (progress.get(file.path) ?? 0);
    progress.set(file.path, fileBytes);
    options.onProgress?.({ path: file.path, fileBytes, fileSize: file.size, bytes, totalBytes, filesDone, filesTotal: files.length });
  };

  const queue = [...files];
  const transferred: string[] = [];
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file && !failure; file = queue.shift()) {
      try {
        const current = file;
        const blob = await ensureBlob({
          session: ctx.session,
          layout,
          commit,
          revision: ctx.revision,
          file: current,
          retries: options.retries ?? 2,
          lock: options.lock,
          onBytes: (fileBytes) => report(current, fileBytes),
        });
        await layout.linkSnapshotFile(commit, current.path, blob.blobPath);
        if (blob.transferred) transferred.push(current.path);
        filesDone++;
        report(current, current.size);
      } catch (error) {
        failure ??= { error };
        ctx.inner.abort(new HubError('Stopped because another file of the same load failed.'));
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, files.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
  return transferred;
}

async function result(layout: CacheLayout, repo: string, revision: string, commit: string, paths: string[], downloaded: string[]): Promise<FetchedRepo> {
  const files: FetchedFile[] = [];
  for (const path of paths) {
    const localPath = layout.pointerPath(commit, path);
    files.push({ path, localPath, size: (await stat(localPath)).size });
  }
  return { repo, revision, snapshotDir: layout.snapshotDir(commit), commit, files, downloaded, local: false };
}

async function fetchLocalFolder(options: FetchRepoFilesOptions, revision: string): Promise<FetchedRepo> {
  const folder = resolve(options.repo);
  const selection = selectionOf(options, folder);
  const available = await listFolderFiles(folder);
  const sizes = new Map(available.map((f) => [f.path, f.size]));
  const paths = pick(selection, [...sizes.keys()], folder, 'local folder');
  return {
    repo: options.repo,
    revision,
    snapshotDir: folder,
    commit: undefined,
    files: paths.map((path) => ({ path, localPath: join(folder, ...path.split('/')), size: sizes.get(path)! })),
    downloaded: [],
    local: true,
  };
}
