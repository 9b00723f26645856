/**
 * A RepoResolver whose repos are folders on this machine: `repo` is a
 * directory (absolute, or relative to `root`), `subfolder` is joined to it.
 * Tests and offline users load a diffusers-layout folder (such as the tiny
 * SDXL repo) with it; the hub package installs a Hub-backed resolver instead.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ComponentLoadError, type RepoLocation, type RepoResolver, type ResolvedLocation } from '@modular-diffusers/core';
import { isDirectory } from './path-kind.js';

export interface LocalFolderRepoResolverOptions {
  /** Folder that relative repo names are resolved against (default: the current directory). */
  root?: string;
}

/** The index files a pipeline folder may carry, the modular one first as diffusers reads them. */
const MODEL_INDEX_FILES = ['modular_model_index.json', 'model_index.json'] as const;

export class LocalFolderRepoResolver implements RepoResolver {
  readonly root: string;

  constructor(options: LocalFolderRepoResolverOptions = {}) {
    this.root = resolve(options.root ?? '.');
  }

  /** The local directory of a repo name. */
  repoPath(repo: string): string {
    if (typeof repo !== 'string' || repo === '') {
      throw new ComponentLoadError('LocalFolderRepoResolver needs a repo: the path of a local folder laid out like a diffusers repo.');
    }
    return isAbsolute(repo) ? repo : resolve(this.root, repo);
  }

  /** `<repo>/<subfolder>/<file>` (the folder must exist; the file is the caller's to check). */
  async resolveFile(location: RepoLocation, file: string): Promise<string> {
    return join((await this.resolve(location)).path, file);
  }

  async resolve(location: RepoLocation): Promise<ResolvedLocation> {
    const repoDir = this.repoPath(location.repo);
    if (!(await isDirectory(repoDir))) {
      throw new ComponentLoadError(
        `No local folder '${repoDir}' for repo '${location.repo}'. LocalFolderRepoResolver reads repos from disk: ` +
          `pass the folder of a downloaded or generated repo, or install the Hub resolver from '@modular-diffusers/hub' for Hub ids.`,
      );
    }
    const path = location.subfolder ? join(repoDir, location.subfolder) : repoDir;
    if (!(await isDirectory(path))) {
      throw new ComponentLoadError(
        `Repo folder '${repoDir}' has no subfolder '${location.subfolder}'. Check the component's subfolder in the model index, ` +
          `or pass { perComponent: { <name>: { subfolder } } } to loadComponents().`,
      );
    }
    return { ...location, path, commit: null };
  }

  /** Whether the repo folder (and the subfolder, if any) is a directory on disk. */
  async exists(location: RepoLocation): Promise<boolean> {
    const repoDir = this.repoPath(location.repo);
    return isDirectory(location.subfolder ? join(repoDir, location.subfolder) : repoDir);
  }

  async readModelIndex(repo: string): Promise<Record<string, unknown> | null> {
    const repoDir = this.repoPath(repo);
    for (const file of MODEL_INDEX_FILES) {
      const text = await readFile(join(repoDir, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
        throw error;
      });
      if (text === null) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new ComponentLoadError(`${join(repoDir, file)} is not valid JSON (${(error as Error).message}); fix or delete it.`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ComponentLoadError(`${join(repoDir, file)} must hold a JSON object.`);
      }
      return parsed as Record<string, unknown>;
    }
    return null;
  }
}

