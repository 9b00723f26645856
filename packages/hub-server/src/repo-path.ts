import { badRequest } from './hub-server-error.js';

/**
 * Checks a repo-relative file path from a commit: forward slashes, no empty,
 * `.` or `..` segment, nothing under `.git/`. These paths end up as cache paths on
 * the client's disk, so nothing that could climb out of a snapshot folder gets in.
 */
export function assertValidRepoPath(path: string): void {
  const problem =
    typeof path !== 'string' || path.length === 0
      ? 'is empty'
      : path.includes('\\') || path.includes('\0')
        ? 'contains a backslash or NUL'
        : path.split('/').some((s) => s === '' || s === '.' || s === '..')
          ? 'has an empty, "." or ".." segment (use forward slashes, no leading or trailing slash)'
          : path.split('/')[0] === '.git'
            ? 'is inside .git/'
            : path.length > 1000
              ? 'is longer than 1000 characters'
              : undefined;
  if (problem) throw badRequest(`Invalid file path "${String(path)}": it ${problem}.`);
}

/** `a/b/c.txt` -> `['a', 'a/b']` */
export function parentFolders(path: string): string[] {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) out.push(segments.slice(0, i).join('/'));
  return out;
}
