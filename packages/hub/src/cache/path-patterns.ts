/**
 * Python's `fnmatch` semantics, which `huggingface_hub`'s `allow_patterns` /
 * `ignore_patterns` use: `*` matches any run of characters **including `/`**,
 * `?` one character, `[seq]` / `[!seq]` a set. Globs with `**` from other tools
 * would select different files for the same pattern, so they are not used here.
 */
export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      const close = findSetEnd(pattern, i);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, close).replace(/[\\\]^]/g, '\\$&');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      out += `[${set}]`;
      i = close;
    } else {
      out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`, 's');
}

/** Index of the `]` closing a set opened at `open`; a `]` right after `[` or `[!` is a member. */
function findSetEnd(pattern: string, open: number): number {
  let j = open + 1;
  if (pattern[j] === '!') j++;
  if (pattern[j] === ']') j++;
  return pattern.indexOf(']', j);
}

/** A pattern ending in `/` means everything below that folder, as in `huggingface_hub`. */
function expandFolder(pattern: string): string {
  return pattern.endsWith('/') ? `${pattern}*` : pattern;
}

/**
 * Keeps the paths matching at least one allow pattern (all paths when none are
 * given) and no ignore pattern, in their original order.
 */
export function filterRepoPaths(paths: readonly string[], allowPatterns?: readonly string[], ignorePatterns?: readonly string[]): string[] {
  const allow = allowPatterns?.map((p) => fnmatchToRegExp(expandFolder(p)));
  const ignore = (ignorePatterns ?? []).map((p) => fnmatchToRegExp(expandFolder(p)));
  return paths.filter((path) => (allow === undefined || allow.some((re) => re.test(path))) && !ignore.some((re) => re.test(path)));
}
