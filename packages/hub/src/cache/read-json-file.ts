import { readFile } from 'node:fs/promises';
import { fetchRepoFiles, type FetchRepoFilesOptions } from './fetch-repo-files.js';
import { EntryNotFoundError, HubJsonError } from './hub-errors.js';

export interface ReadJsonFileOptions extends Omit<FetchRepoFilesOptions, 'files' | 'allowPatterns' | 'ignorePatterns' | 'onProgress'> {
  /** The JSON file inside the repo, e.g. `model_index.json`. */
  path: string;
}

export interface RepoJsonFile<T> {
  data: T;
  path: string;
  localPath: string;
  /** Undefined for a local folder. */
  commit: string | undefined;
  snapshotDir: string;
}

/**
 * Fetches one JSON file of a repo (through the cache) and parses it; a file
 * that does not parse is a {@link HubJsonError} naming it.
 */
export async function readJsonFile<T = unknown>(options: ReadJsonFileOptions): Promise<RepoJsonFile<T>> {
  const fetched = await fetchRepoFiles({ ...options, files: [options.path] });
  const file = fetched.files[0];
  const text = await readFile(file.localPath, 'utf8');
  let data: T;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, '')) as T;
  } catch (error) {
    throw new HubJsonError(options.repo, options.path, (error as Error).message);
  }
  return { data, path: options.path, localPath: file.localPath, commit: fetched.commit, snapshotDir: fetched.snapshotDir };
}

/** Like {@link readJsonFile}, but `undefined` when the repo has no such file (e.g. trying `modular_model_index.json` first). */
export async function readOptionalJsonFile<T = unknown>(options: ReadJsonFileOptions): Promise<RepoJsonFile<T> | undefined> {
  try {
    return await readJsonFile<T>(options);
  } catch (error) {
    if (error instanceof EntryNotFoundError) return undefined;
    throw error;
  }
}
