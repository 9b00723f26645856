import { createHash } from 'node:crypto';

// Object ids computed exactly as git computes them, so the ids the server hands out
// (file oids, tree oids, commit shas) are the ones a real Hub repo with the same
// content would show, and cache blob names match Python's `huggingface_hub`.

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function gitObjectSha1(kind: 'blob' | 'tree' | 'commit', body: Uint8Array): string {
  return createHash('sha1').update(`${kind} ${body.byteLength}\0`).update(body).digest('hex');
}

/** `sha1("blob <len>\0" + content)`: git's id of a file. */
export function gitBlobSha1(content: Uint8Array): string {
  return gitObjectSha1('blob', content);
}

/** The pointer file git-lfs commits in place of a large file's content. */
export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

export interface GitTreeEntry {
  name: string;
  kind: 'blob' | 'tree';
  oid: string;
}

/** A tree object's id. Entries are sorted as git sorts them: trees compare as `name/`. */
export function gitTreeSha1(entries: GitTreeEntry[]): string {
  const sortKey = (e: GitTreeEntry) => Buffer.from(e.kind === 'tree' ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    parts.push(Buffer.from(`${entry.kind === 'tree' ? '40000' : '100644'} ${entry.name}\0`));
    parts.push(Buffer.from(entry.oid, 'hex'));
  }
  return gitObjectSha1('tree', Buffer.concat(parts));
}

/**
 * Ids of the root tree and of every folder of a commit whose files have the given
 * git blob oids. Folder keys are repo-relative paths without a trailing slash; the
 * root is `''`.
 */
export function gitTreeIds(files: ReadonlyMap<string, string>): Map<string, string> {
  const children = new Map<string, Map<string, GitTreeEntry>>([['', new Map()]]);
  for (const [path, oid] of files) {
    const segments = path.split('/');
    let dir = '';
    for (let i = 0; i < segments.length - 1; i++) {
      const child = dir ? `${dir}/${segments[i]}` : segments[i];
      if (!children.has(child)) {
        children.set(child, new Map());
        children.get(dir)!.set(segments[i], { name: segments[i], kind: 'tree', oid: '' });
      }
      dir = child;
    }
    const name = segments[segments.length - 1];
    children.get(dir)!.set(name, { name, kind: 'blob', oid });
  }
  // Deepest folders first, so each parent sees its children's final ids; the root is last.
  const depth = (dir: string) => (dir === '' ? 0 : dir.split('/').length);
  const dirs = [...children.keys()].sort((a, b) => depth(b) - depth(a));
  const ids = new Map<string, string>();
  for (const dir of dirs) {
    const entries = [...children.get(dir)!.values()].map((e) =>
      e.kind === 'tree' ? { ...e, oid: ids.get(dir ? `${dir}/${e.name}` : e.name)! } : e,
    );
    ids.set(dir, gitTreeSha1(entries));
  }
  return ids;
}

export interface GitCommitFields {
  tree: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  /** Seconds since the epoch, UTC. */
  timestamp: number;
  /** Title, then an optional blank line and description, as `git commit -m` writes it. */
  message: string;
}

/** A commit object's id, with author and committer both set to the author. */
export function gitCommitSha1(fields: GitCommitFields): string {
  const identity = `${fields.authorName} <${fields.authorEmail}> ${fields.timestamp} +0000`;
  const lines = [`tree ${fields.tree}`, ...fields.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${identity}`, `committer ${identity}`, '', fields.message.endsWith('\n') ? fields.message : `${fields.message}\n`);
  return gitObjectSha1('commit', Buffer.from(lines.join('\n')));
}
