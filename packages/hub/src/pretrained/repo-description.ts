import type { HubAccessOptions } from './hub-access-options.js';
import { MODEL_INDEX_FILE, MODULAR_MODEL_INDEX_FILE, readListedJsonHashed } from './hub-repo-resolver.js';
import { checkModelIndex } from './check-model-index.js';
import { MODULAR_CONFIG_FILE, parseModularConfig, type ModularConfig } from './modular-config.js';
import { listRepo, type RepoListing } from './repo-listing.js';

/** What a repo says about itself, read without running or downloading anything else. */
export interface RepoDescription {
  listing: RepoListing;
  /** The parsed `modular_config.json`, or null when the repo has none. */
  modularConfig: ModularConfig | null;
  /** The parsed, shape-checked index, or null when the repo has neither index file. */
  modelIndex: Record<string, unknown> | null;
  /** Which index file it came from. */
  modelIndexFile: typeof MODULAR_MODEL_INDEX_FILE | typeof MODEL_INDEX_FILE | null;
  /** sha256 of the bytes of `modular_config.json` and the index file that were parsed, by path (what the remote-code lock pins). */
  fileHashes: Record<string, string>;
}

/**
 * Resolves the revision to a commit (so every later file comes from that
 * commit) and reads `modular_config.json` and `modular_model_index.json`
 * (falling back to `model_index.json`), the small JSON files only.
 */
export async function readRepoDescription(repo: string, revision: string | null | undefined, access: HubAccessOptions): Promise<RepoDescription> {
  const listing = await listRepo(repo, revision, access);
  const has = (file: string) => listing.paths.includes(file);
  const fileHashes: Record<string, string> = {};
  const read = async (file: string) => {
    const { data, sha256 } = await readListedJsonHashed(listing, file, access);
    fileHashes[file] = sha256;
    return data;
  };
  const modularConfig = has(MODULAR_CONFIG_FILE) ? parseModularConfig(await read(MODULAR_CONFIG_FILE), repo) : null;
  const modelIndexFile = has(MODULAR_MODEL_INDEX_FILE) ? MODULAR_MODEL_INDEX_FILE : has(MODEL_INDEX_FILE) ? MODEL_INDEX_FILE : null;
  const modelIndex = modelIndexFile ? checkModelIndex(await read(modelIndexFile), repo, modelIndexFile) : null;
  return { listing, modularConfig, modelIndex, modelIndexFile, fileHashes };
}
