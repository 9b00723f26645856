/**
 * Which resident components to evict when an incoming one does not fit the
 * memory budget. The rule, in order:
 *  1. the FEWEST components whose sizes add up to at least the shortfall;
 *  2. among sets of that count, the smallest total size (free no more than needed);
 *  3. then the least recently used set: compare the sets' last-use times,
 *     oldest first, and take the set whose times are older at the first difference.
 * diffusers' AutoOffloadStrategy keeps only rule 2 (smallest total over every
 * combination); counting evictions first keeps the number of session
 * re-creations, the expensive part with ONNX Runtime, as low as possible.
 * The caller decides who is a candidate (the components the current block
 * needs are left out first).
 */
export interface EvictionCandidate {
  id: string;
  sizeBytes: number;
  /** Larger is more recent. */
  lastUsed: number;
}

/** Combinations are enumerated; above this many candidates the largest-first greedy choice is used instead. */
const MAX_EXACT_CANDIDATES = 20;

/**
 * The ids to evict, least recently used first, or null when even all
 * candidates together free less than `shortfall` bytes. A shortfall <= 0 needs nothing.
 */
export function chooseEvictions(candidates: readonly EvictionCandidate[], shortfall: number): string[] | null {
  if (shortfall <= 0) return [];
  const total = candidates.reduce((sum, c) => sum + c.sizeBytes, 0);
  if (total < shortfall) return null;
  const pool = [...candidates].sort((a, b) => a.lastUsed - b.lastUsed);
  if (pool.length > MAX_EXACT_CANDIDATES) return greedy(pool, shortfall);
  for (let count = 1; count <= pool.length; count++) {
    let best: EvictionCandidate[] | null = null;
    forEachCombination(pool, count, (set) => {
      if (sum(set) >= shortfall && (best === null || better(set, best))) best = [...set];
    });
    if (best !== null) return (best as EvictionCandidate[]).map((c) => c.id);
  }
  return null;
}

function better(a: readonly EvictionCandidate[], b: readonly EvictionCandidate[]): boolean {
  const [sa, sb] = [sum(a), sum(b)];
  if (sa !== sb) return sa < sb;
  // Both are sorted oldest first (the pool is), so compare element by element.
  for (let i = 0; i < a.length; i++) if (a[i]!.lastUsed !== b[i]!.lastUsed) return a[i]!.lastUsed < b[i]!.lastUsed;
  return false;
}

function sum(set: readonly EvictionCandidate[]): number {
  return set.reduce((s, c) => s + c.sizeBytes, 0);
}

function forEachCombination<T>(items: readonly T[], count: number, visit: (set: T[]) => void): void {
  const chosen: T[] = [];
  const walk = (start: number): void => {
    if (chosen.length === count) {
      visit(chosen);
      return;
    }
    for (let i = start; i <= items.length - (count - chosen.length); i++) {
      chosen.push(items[i]!);
      walk(i + 1);
      chosen.pop();
    }
  };
  walk(0);
}

function greedy(pool: readonly EvictionCandidate[], shortfall: number): string[] {
  const bySize = [...pool].sort((a, b) => b.sizeBytes - a.sizeBytes || a.lastUsed - b.lastUsed);
  const picked: EvictionCandidate[] = [];
  let freed = 0;
  for (const c of bySize) {
    if (freed >= shortfall) break;
    picked.push(c);
    freed += c.sizeBytes;
  }
  return picked.sort((a, b) => a.lastUsed - b.lastUsed).map((c) => c.id);
}
