import { describe, expect, it } from 'vitest';
import { chooseEvictions, type EvictionCandidate } from './offload-strategy.js';

const c = (id: string, sizeBytes: number, lastUsed: number): EvictionCandidate => ({ id, sizeBytes, lastUsed });

describe('chooseEvictions', () => {
  it('needs nothing for no shortfall and gives null when all candidates together are too small', () => {
    expect(chooseEvictions([c('a', 5, 1)], 0)).toEqual([]);
    expect(chooseEvictions([c('a', 5, 1), c('b', 4, 2)], 10)).toBeNull();
    expect(chooseEvictions([], 1)).toBeNull();
  });

  it('evicts the fewest components first, even when a larger set would free fewer bytes', () => {
    // Shortfall 6: {big=10} is one eviction; {a=3, b=3} frees exactly 6 but is two. diffusers' smallest-total rule would take {a, b}.
    expect(chooseEvictions([c('a', 3, 1), c('b', 3, 2), c('big', 10, 3)], 6)).toEqual(['big']);
  });

  it('among sets of the same count, frees the smallest total', () => {
    // Shortfall 5: single candidates that cover it are 6 and 9; take 6.
    expect(chooseEvictions([c('nine', 9, 1), c('six', 6, 2), c('two', 2, 3)], 5)).toEqual(['six']);
    // Shortfall 12 needs two: {9,6}=15, {9,4}=13, {6,4}=10 (short); take {9,4}.
    expect(chooseEvictions([c('nine', 9, 3), c('six', 6, 1), c('four', 4, 2)], 12)).toEqual(['four', 'nine']);
  });

  it('breaks remaining ties by least recent use, and lists the eviction order oldest first', () => {
    expect(chooseEvictions([c('newer', 5, 9), c('older', 5, 2)], 5)).toEqual(['older']);
    // Every pair totals 10; compared oldest-first, {x(1), y(3)} beats {x(1), w(4)} and the rest.
    expect(chooseEvictions([c('z', 5, 7), c('y', 5, 3), c('w', 5, 4), c('x', 5, 1)], 10)).toEqual(['x', 'y']);
  });

  it('falls back to largest-first for very many candidates', () => {
    const many = Array.from({ length: 25 }, (_, i) => c(`m${i}`, i + 1, i));
    expect(chooseEvictions(many, 49)).toEqual(['m23', 'm24']); // 25 + 24 = 49
  });
});
