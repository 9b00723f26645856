/**
 * Splits a stretch of wall time between kinds of work without counting any
 * millisecond twice. Each kind records [start, end] intervals (performance.now
 * time); kinds are listed by priority, and a moment that falls in several
 * kinds' intervals goes to the first of them (session.run before garbage
 * collection before numeric work), so a collection that interrupts a
 * scheduler step counts as collection, once. What no kind claims is the
 * remainder: the engine's own time.
 */
export type Interval = readonly [number, number];

/** Sorted, non-overlapping union of `intervals`, clipped to [from, to]. */
export function unionWithin(intervals: readonly Interval[], from: number, to: number): Interval[] {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of clipped) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

function length(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, [a, b]) => sum + (b - a), 0);
}

/** `keep` minus `remove`, both sorted unions. */
function subtract(keep: readonly Interval[], remove: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [a0, b] of keep) {
    let a = a0;
    for (const [ra, rb] of remove) {
      if (rb <= a || ra >= b) continue;
      if (ra > a) out.push([a, ra]);
      a = Math.max(a, rb);
      if (a >= b) break;
    }
    if (a < b) out.push([a, b]);
  }
  return out;
}

/**
 * Milliseconds of [from, to] per kind (in priority order), plus `rest`:
 * the time no kind claims.
 */
export function splitWallTime<K extends string>(
  kinds: ReadonlyArray<readonly [K, readonly Interval[]]>,
  from: number,
  to: number,
): Record<K | 'rest', number> {
  const result = {} as Record<K | 'rest', number>;
  let claimed: Interval[] = [];
  for (const [kind, intervals] of kinds) {
    const own = subtract(unionWithin(intervals, from, to), claimed);
    result[kind] = length(own);
    claimed = unionWithin([...claimed, ...own], from, to);
  }
  result.rest = to - from - length(claimed);
  return result;
}
