import { fetchRepoFiles, type FetchedRepo } from '../cache/fetch-repo-files.js';
import { CacheLayout } from '../cache/cache-layout.js';
import { HubCacheMissError } from '../cache/hub-errors.js';
import { ListingCache } from '../cache/listing-cache.js';
import { listFolderFiles } from '../cache/local-files.js';
import { parseRepoRef } from '../cache/repo-ref.js';
import { resolveHubConfig } from '../config/hub-config.js';
import { fetchOptions, type HubAccessOptions } from './hub-access-options.js';

/** Every file path of a repo revision, and the commit it resolved to, without downloading any file. */
export interface RepoListing {
  repo: string;
  /** Undefined for a local folder. */
  commit: string | undefined;
  snapshotDir: string;
  local: boolean;
  paths: string[];
}

/**
 * Resolves `revision` to a commit and lists the commit's files. The listing
 * is kept in the cache per commit, so once a revision has been seen this
 * makes no request at all. A local folder is listed as it is.
 */
export async function listRepo(repo: string, revision: string | null | undefined, access: HubAccessOptions): Promise<RepoListing> {
  let probe: FetchedRepo;
  try {
    // An empty allow list resolves the commit and stores the listing, but selects (downloads) nothing.
    probe = await fetchRepoFiles({ ...fetchOptions(access), repo, revision: revision ?? undefined, allowPatterns: [] });
  } catch (error) {
    if (error instanceof HubCacheMissError) {
      const held = await heldSnapshot(repo, revision ?? 'main', access);
      if (held) return held;
    }
    throw error;
  }
  if (probe.local) {
    return { repo, commit: undefined, snapshotDir: probe.snapshotDir, local: true, paths: (await listFolderFiles(probe.snapshotDir)).map((f) => f.path) };
  }
  const config = resolveHubConfig({ env: access.env, cacheDir: access.cacheDir });
  const listing = await new ListingCache(config, parseRepoRef(repo)).read(probe.commit!);
  const paths = listing ? listing.map((f) => f.path) : (await listFolderFiles(probe.snapshotDir)).map((f) => f.path);
  return { repo, commit: probe.commit, snapshotDir: probe.snapshotDir, local: false, paths };
}

/**
 * Offline, a snapshot another tool (Python) filled has no listing of ours:
 * its files are then what the repo is, as Python treats it.
 */
async function heldSnapshot(repo: string, revision: string, access: HubAccessOptions): Promise<RepoListing | undefined> {
  const config = resolveHubConfig({ env: access.env, cacheDir: access.cacheDir, offline: access.localFilesOnly });
  if (!config.offline) return undefined;
  const layout = new CacheLayout(config.cacheDir, parseRepoRef(repo));
  const commit = /^[0-9a-f]{40}$/.test(revision) ? revision : await layout.readRef(revision);
  if (!commit) return undefined;
  const files = await listFolderFiles(layout.snapshotDir(commit));
  if (files.length === 0) return undefined;
  return { repo, commit, snapshotDir: layout.snapshotDir(commit), local: false, paths: files.map((f) => f.path) };
}

/** Fetches exact files of a listed repo at its commit (no request when they are cached). */
export async function fetchListedFiles(listing: RepoListing, files: string[], access: HubAccessOptions): Promise<FetchedRepo> {
  return fetchRepoFiles({ ...fetchOptions(access), repo: listing.repo, revision: listing.commit, files });
}
