import type { HubRepoType } from './repo-id.js';

// The JSON records of the store. Commits are immutable once written; a repo's
// refs file is the only thing a commit rewrites, and it is written last.

/** One file of a commit. */
export interface StoredFile {
  /** Git blob id: of the content for a regular file, of the pointer file for an LFS file. */
  oid: string;
  /** Size of the content in bytes (not of the pointer). */
  size: number;
  lfs?: { oid: string; size: number; pointerSize: number };
  /** The last commit (on this commit's first-parent history) that changed this path. */
  lastCommit: string;
}

export interface CommitRecord {
  id: string;
  parents: string[];
  title: string;
  description: string;
  author: string;
  /** ISO 8601, whole seconds, as in the commit object. */
  date: string;
  /** Root tree id. */
  tree: string;
  files: Record<string, StoredFile>;
  /** Tree id of every folder, keyed by repo-relative path; the root is `''`. */
  trees: Record<string, string>;
}

export interface RepoRecord {
  /** A 24-hex id, as the Hub's `_id`. */
  _id: string;
  type: HubRepoType;
  namespace: string;
  name: string;
  private: boolean;
  createdAt: string;
  /** The user who created the repo. */
  author: string;
}

export interface RefsRecord {
  branches: Record<string, string>;
  tags: Record<string, string>;
  /** Pull-request refs, `refs/pr/<n>`, keyed by `n`. */
  pulls: Record<string, string>;
}

export const DEFAULT_BRANCH = 'main';
