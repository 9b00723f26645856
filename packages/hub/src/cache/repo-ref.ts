import { getRepoFolderName, type RepoId } from '@huggingface/hub';
import { HubError } from './hub-errors.js';

/** A Hub repo as the cache names it. */
export interface RepoRef {
  /** As the caller wrote it, e.g. `org/name` or `datasets/org/name`. */
  designation: string;
  id: RepoId & { type: 'model' | 'dataset' | 'space' };
  /** `models--org--name`, Python's folder name under the cache root. */
  folderName: string;
}

const PREFIXES = { 'datasets/': 'dataset', 'spaces/': 'space' } as const;
const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Parses `org/name` (a model), `datasets/org/name` or `spaces/org/name`. Checked
 * here, before any path is built from it, so a name cannot climb out of the cache.
 */
export function parseRepoRef(designation: string): RepoRef {
  let type: RepoRef['id']['type'] = 'model';
  let name = designation;
  for (const [prefix, prefixType] of Object.entries(PREFIXES)) {
    if (designation.startsWith(prefix)) {
      type = prefixType;
      name = designation.slice(prefix.length);
    }
  }
  const parts = name.split('/');
  const namespaced = parts.length === 2 || (type !== 'space' && parts.length === 1);
  if (!namespaced || !parts.every((p) => PART.test(p) && !p.includes('--') && !p.includes('..'))) {
    throw new HubError(
      `"${designation}" is not a Hub repo id: use "org/name" for a model, "datasets/org/name" or "spaces/org/name", ` +
        'or the path of an existing local folder.',
    );
  }
  const id = { type, name };
  return { designation, id, folderName: getRepoFolderName(id) };
}
