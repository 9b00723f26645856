import { describe, expect, it } from 'vitest';
import { pilResize } from '../src/index.js';
import { describeDifference, loadPilFixtures } from './pil-fixtures.js';

const fixtures = loadPilFixtures();

describe('pilResize against PIL 9.4.0 (fixtures/pil-resize)', () => {
  it('covers every filter diffusers can name, up and down, RGB and L, with boxes and reducing_gap', () => {
    expect(fixtures.pil).toBe('9.4.0');
    const filters = new Set(fixtures.resizes.map((r) => r.filter));
    expect([...filters].sort()).toEqual(['bicubic', 'bilinear', 'lanczos', 'nearest']);
    const modes = new Set(fixtures.resizes.map((r) => fixtures.inputs.get(r.input)!.channels));
    expect([...modes].sort()).toEqual([1, 3]);
    expect(fixtures.resizes.some((r) => r.width > fixtures.inputs.get(r.input)!.width)).toBe(true);
    expect(fixtures.resizes.some((r) => r.width < fixtures.inputs.get(r.input)!.width)).toBe(true);
    expect(fixtures.resizes.some((r) => r.box !== null)).toBe(true);
    expect(fixtures.resizes.some((r) => r.reducingGap !== null)).toBe(true);
  });

  for (const filter of ['lanczos', 'bicubic', 'bilinear', 'nearest'] as const) {
    it(`${filter}: every fixture bit for bit`, () => {
      const failures: string[] = [];
      for (const entry of fixtures.resizes.filter((r) => r.filter === filter)) {
        const input = fixtures.inputs.get(entry.input)!;
        const out = pilResize(input, entry.width, entry.height, {
          filter,
          ...(entry.box ? { box: entry.box } : {}),
          reducingGap: entry.reducingGap,
        });
        const expected = fixtures.bytes(entry);
        const difference = describeDifference(out.data, expected);
        if (difference !== 'identical' || out.width !== entry.width || out.height !== entry.height || out.channels !== input.channels) {
          failures.push(`${entry.input} -> ${entry.width}x${entry.height} box ${JSON.stringify(entry.box)} gap ${entry.reducingGap}: ${difference}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
