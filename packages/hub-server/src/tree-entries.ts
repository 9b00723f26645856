import type { HubStore } from './hub-store.js';
import type { HubRepoId } from './repo-id.js';
import type { CommitRecord } from './store-records.js';

/** A file or folder as `tree` and `paths-info` answer them. */
export interface TreeEntry {
  type: 'file' | 'directory';
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
  lastCommit?: { id: string; title: string; date: string };
}

/** Entry for one path of a commit, or undefined when it is neither a file nor a folder. */
export function entryAt(commit: CommitRecord, path: string): TreeEntry | undefined {
  const file = Object.hasOwn(commit.files, path) ? commit.files[path] : undefined;
  if (file) {
    return { type: 'file', oid: file.oid, size: file.size, path, ...(file.lfs ? { lfs: { ...file.lfs } } : {}) };
  }
  if (path !== '' && Object.hasOwn(commit.trees, path)) return { type: 'directory', oid: commit.trees[path], size: 0, path };
  return undefined;
}

/** Children of folder `dir` (`''` for the root), or all descendants when `recursive`, sorted by path. */
export function entriesUnder(commit: CommitRecord, dir: string, recursive: boolean): TreeEntry[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  const paths = new Set<string>();
  for (const path of [...Object.keys(commit.files), ...Object.keys(commit.trees)]) {
    if (path === '' || !path.startsWith(prefix) || path === dir) continue;
    if (recursive || !path.slice(prefix.length).includes('/')) paths.add(path);
  }
  return [...paths].sort().map((path) => entryAt(commit, path)!);
}

/**
 * Adds `lastCommit` to entries: the newest commit of first-parent history that
 * changed the file or folder (kept per file at commit time; found for folders by
 * walking back while the folder's tree id stays the same).
 */
export async function withLastCommits(store: HubStore, repo: HubRepoId, head: CommitRecord, entries: TreeEntry[]): Promise<TreeEntry[]> {
  const summary = async (id: string) => {
    const commit = (await store.readCommit(repo, id))!;
    return { id: commit.id, title: commit.title, date: commit.date };
  };
  const out: TreeEntry[] = [];
  for (const entry of entries) {
    let last: string;
    if (entry.type === 'file') {
      last = head.files[entry.path].lastCommit;
    } else {
      let current = head;
      for (;;) {
        const parent = current.parents[0] ? await store.readCommit(repo, current.parents[0]) : undefined;
        if (!parent || parent.trees[entry.path] !== entry.oid) break;
        current = parent;
      }
      last = current.id;
    }
    out.push({ ...entry, lastCommit: await summary(last) });
  }
  return out;
}
