import { HubServerError } from './hub-server-error.js';

export type HubRepoType = 'model' | 'dataset' | 'space';

/** A repository as the Hub names it: a type plus `namespace/name`. */
export interface HubRepoId {
  type: HubRepoType;
  namespace: string;
  name: string;
}

// The Hub's own rule for namespace and repo names: letters, digits, '-', '_', '.',
// no leading punctuation, no '--' or '..', at most 96 characters. Keeping to it also
// makes every name safe to use as a folder name in the store.
const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

export function isValidRepoName(part: string): boolean {
  return NAME_PATTERN.test(part) && !part.includes('--') && !part.includes('..') && !part.endsWith('.git');
}

const TYPE_PREFIXES: Record<string, HubRepoType> = { datasets: 'dataset', spaces: 'space' };

/**
 * Reads a repo designation the way `@huggingface/hub` writes it: `org/name` for a model,
 * `datasets/org/name` or `spaces/org/name` for the others.
 */
export function parseRepoDesignation(designation: string): HubRepoId {
  const parts = designation.split('/');
  let type: HubRepoType = 'model';
  if (parts.length === 3 && TYPE_PREFIXES[parts[0]]) {
    type = TYPE_PREFIXES[parts[0]];
    parts.shift();
  }
  if (parts.length !== 2 || !isValidRepoName(parts[0]) || !isValidRepoName(parts[1])) {
    throw new HubServerError(
      `"${designation}" is not a repo id: write "namespace/name" for a model, or prefix it with "datasets/" or "spaces/"; ` +
        'names use letters, digits, "-", "_" and "." only.',
    );
  }
  return { type, namespace: parts[0], name: parts[1] };
}

/** `org/name` */
export function repoFullName(repo: HubRepoId): string {
  return `${repo.namespace}/${repo.name}`;
}

/** The URL prefix of the repo's web routes: `org/name`, `datasets/org/name`, `spaces/org/name`. */
export function repoUrlPath(repo: HubRepoId): string {
  return repo.type === 'model' ? repoFullName(repo) : `${repo.type}s/${repoFullName(repo)}`;
}

export function repoKey(repo: HubRepoId): string {
  return `${repo.type}:${repoFullName(repo)}`;
}
