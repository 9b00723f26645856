import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { parseMemoryBudget } from './memory-budget.js';

describe('parseMemoryBudget', () => {
  it('reads decimal units as powers of 1000 and binary units as powers of 1024, case-insensitively', () => {
    expect(parseMemoryBudget('6GB')).toBe(6_000_000_000);
    expect(parseMemoryBudget('512MB')).toBe(512_000_000);
    expect(parseMemoryBudget('512mb')).toBe(512_000_000);
    expect(parseMemoryBudget('1.5GiB')).toBe(1.5 * 2 ** 30); // 1610612736
    expect(parseMemoryBudget('800 KiB')).toBe(819_200);
    expect(parseMemoryBudget(' 2tb ')).toBe(2e12);
    expect(parseMemoryBudget('8000000')).toBe(8_000_000);
    expect(parseMemoryBudget('10B')).toBe(10);
    expect(parseMemoryBudget(4096.7)).toBe(4096);
  });

  it('rejects what is not a positive size, saying how to write one', () => {
    for (const bad of ['', 'GB', '6 gigabytes', '-1GB', '0', '0.0000001B', '1e9']) {
      expect(() => parseMemoryBudget(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => parseMemoryBudget('6 gigabytes')).toThrow(/e\.g\. '6GB', '512MB'/);
    expect(() => parseMemoryBudget(0)).toThrow(/positive/);
    expect(() => parseMemoryBudget(Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => parseMemoryBudget(null as never)).toThrow(InvalidArgumentError);
  });
});
