import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AbortSignalLike, RepoLocation, RepoResolver, ResolvedLocation } from '@modular-diffusers/core';
import { EntryNotFoundError, HubJsonError } from '../cache/hub-errors.js';
import type { HubAccessOptions } from './hub-access-options.js';
import { fetchListedFiles, listRepo, type RepoListing } from './repo-listing.js';
import { assertHubLocation, assertSubfolder } from './component-locations.js';
import { selectVariantFiles } from './variant-files.js';

export const MODULAR_MODEL_INDEX_FILE = 'modular_model_index.json';
export const MODEL_INDEX_FILE = 'model_index.json';

export interface HubRepoResolverOptions extends HubAccessOptions {
  /**
   * The revision to use for a repo whose location gives none, e.g. the
   * commit a pipeline's own repo was resolved to, so its components come from
   * the same commit as its index.
   */
  defaultRevisions?: Record<string, string>;
  /**
   * Whether a location may name a local folder. Default true (a resolver you build for your own
   * pipelines reads your folders); fromPretrained passes false unless the caller set
   * `allowLocalComponents`, since its locations come from a repo's index and blocks.
   */
  allowLocalFolders?: boolean;
  /** Repo ids or folders accepted as given even when local folders are not, e.g. the pipeline's own repo. */
  ownRepos?: readonly string[];
  /** Names the repo whose locations these are, in errors (default: the location's own name). */
  locationsOf?: string;
}

/**
 * Core's RepoResolver over the Hugging Face cache: a component's location
 * becomes a local folder holding only that subfolder's files (and only the
 * asked variant's weights). It never carries trust: it downloads, it runs nothing.
 */
export class HubRepoResolver implements RepoResolver {
  private readonly access: HubAccessOptions;
  private readonly defaultRevisions: Record<string, string>;
  private readonly allowLocalFolders: boolean;
  private readonly ownRepos: ReadonlySet<string>;
  private readonly locationsOf: string | undefined;

  constructor(options: HubRepoResolverOptions = {}) {
    const { defaultRevisions, allowLocalFolders, ownRepos, locationsOf, ...access } = options;
    this.access = access;
    this.defaultRevisions = { ...defaultRevisions };
    this.allowLocalFolders = allowLocalFolders ?? true;
    this.ownRepos = new Set(ownRepos ?? []);
    this.locationsOf = locationsOf;
  }

  /** Refuses a location that would read this machine's files when local folders are not allowed. */
  private async checkLocation(repo: string, subfolder: string | null): Promise<void> {
    const owner = this.locationsOf ?? repo;
    assertSubfolder(subfolder, owner, 'a component location');
    if (this.allowLocalFolders || this.ownRepos.has(repo)) return;
    await assertHubLocation(repo, owner, 'a component location');
  }

  async resolve(location: RepoLocation, options: { signal?: AbortSignalLike } = {}): Promise<ResolvedLocation> {
    if (!location.repo) throw new EntryNotFoundError('(no repo)', 'main', [location.subfolder ?? '.']);
    await this.checkLocation(location.repo, location.subfolder);
    const access = this.withSignal(options.signal);
    const revision = location.revision ?? this.defaultRevisions[location.repo] ?? null;
    const listing = await listRepo(location.repo, revision, access);
    const prefix = location.subfolder ? `${trimSlashes(location.subfolder)}/` : '';
    // Without a subfolder only the top-level files are the component's: the rest belong to other components.
    const inFolder = listing.paths.filter((p) => (prefix ? p.startsWith(prefix) : !p.includes('/')));
    if (inFolder.length === 0) {
      throw new EntryNotFoundError(location.repo, revision ?? 'main', [prefix ? `${prefix}*` : '(top-level files)']);
    }
    const wanted = selectVariantFiles(inFolder, location.variant);
    const fetched = listing.local ? { snapshotDir: listing.snapshotDir, commit: undefined } : await fetchListedFiles(listing, wanted, access);
    return {
      ...location,
      revision: location.revision,
      path: prefix ? join(fetched.snapshotDir, ...prefix.slice(0, -1).split('/')) : fetched.snapshotDir,
      commit: fetched.commit ?? null,
    };
  }

  /** One file of the location, downloaded alone (the rest of its folder is not). */
  async resolveFile(location: RepoLocation, file: string, options: { signal?: AbortSignalLike } = {}): Promise<string> {
    if (!location.repo) throw new EntryNotFoundError('(no repo)', 'main', [file]);
    const prefix = location.subfolder ? `${trimSlashes(location.subfolder)}/` : '';
    await this.checkLocation(location.repo, `${prefix}${trimSlashes(file)}`);
    const access = this.withSignal(options.signal);
    const revision = location.revision ?? this.defaultRevisions[location.repo] ?? null;
    const listing = await listRepo(location.repo, revision, access);
    const path = `${prefix}${trimSlashes(file)}`;
    if (!listing.paths.includes(path)) throw new EntryNotFoundError(location.repo, revision ?? 'main', [path]);
    if (listing.local) return join(listing.snapshotDir, ...path.split('/'));
    return (await fetchListedFiles(listing, [path], access)).files[0]!.localPath;
  }

  /** Whether the repo's listing has files under the location's subfolder (nothing is downloaded). */
  async exists(location: RepoLocation, options: { signal?: AbortSignalLike } = {}): Promise<boolean> {
    if (!location.repo) return false;
    await this.checkLocation(location.repo, location.subfolder);
    const revision = location.revision ?? this.defaultRevisions[location.repo] ?? null;
    const listing = await listRepo(location.repo, revision, this.withSignal(options.signal));
    const prefix = location.subfolder ? `${trimSlashes(location.subfolder)}/` : '';
    return listing.paths.some((p) => (prefix ? p.startsWith(prefix) : !p.includes('/')));
  }

  /** `modular_model_index.json`, else `model_index.json`, of a repo; null when it has neither. */
  async readModelIndex(repo: string, options: { revision?: string | null; signal?: AbortSignalLike } = {}): Promise<Record<string, unknown> | null> {
    await this.checkLocation(repo, null);
    const access = this.withSignal(options.signal);
    const listing = await listRepo(repo, options.revision ?? this.defaultRevisions[repo] ?? null, access);
    const file = [MODULAR_MODEL_INDEX_FILE, MODEL_INDEX_FILE].find((f) => listing.paths.includes(f));
    if (!file) return null;
    const data = await readListedJson(listing, file, access);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new HubJsonError(repo, file, 'it must hold a JSON object');
    }
    return data as Record<string, unknown>;
  }

  private withSignal(signal: AbortSignalLike | undefined): HubAccessOptions {
    return signal ? { ...this.access, signal: signal as AbortSignal } : this.access;
  }
}

/** Fetches one JSON file of a listed repo and parses it; a parse failure names the file. */
export async function readListedJson(listing: RepoListing, path: string, access: HubAccessOptions): Promise<unknown> {
  return (await readListedJsonHashed(listing, path, access)).data;
}

/** readListedJson, with the sha256 of the very bytes that were parsed (what the remote-code lock pins). */
export async function readListedJsonHashed(listing: RepoListing, path: string, access: HubAccessOptions): Promise<{ data: unknown; sha256: string }> {
  const localPath = listing.local ? join(listing.snapshotDir, ...path.split('/')) : (await fetchListedFiles(listing, [path], access)).files[0]!.localPath;
  const bytes = await readFile(localPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    return { data: JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, '')), sha256 };
  } catch (error) {
    throw new HubJsonError(listing.repo, path, (error as Error).message);
  }
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
