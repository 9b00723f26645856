/**
 * Name patterns for ComponentsManager lookups, matched against a
 * component's base name (its id without the `_<counter>` suffix):
 * `unet` exact, `!unet` negation, `unet*` prefix, `*unet` suffix,
 * `*unet*` contains, `a|b|c` alternatives, and combinations (`!a|b`).
 */
export function matchesComponentPattern(name: string, pattern: string): boolean {
  const negated = pattern.startsWith('!');
  const body = negated ? pattern.slice(1) : pattern;
  const hit = body.split('|').some((term) => matchesTerm(name, term));
  return hit !== negated;
}

function matchesTerm(name: string, term: string): boolean {
  const starts = term.startsWith('*');
  const ends = term.endsWith('*') && term.length > 1;
  if (starts && ends) return name.includes(term.slice(1, -1));
  if (ends) return name.startsWith(term.slice(0, -1));
  if (starts) return name.endsWith(term.slice(1));
  return name === term;
}

/** True for a single term without wildcards, negation or alternatives. */
export function isBarePattern(pattern: string): boolean {
  return !/[!*|]/.test(pattern);
}
