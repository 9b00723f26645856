import { describe, expect, it } from 'vitest';
import { parseByteRange } from './http-range.js';

describe('parseByteRange', () => {
  it('reads the forms of RFC 9110 single ranges against a 10-byte body', () => {
    expect(parseByteRange('bytes=0-0', 10)).toEqual({ kind: 'partial', start: 0, end: 0 });
    expect(parseByteRange('bytes=2-', 10)).toEqual({ kind: 'partial', start: 2, end: 9 });
    expect(parseByteRange('bytes=5-100', 10)).toEqual({ kind: 'partial', start: 5, end: 9 });
    expect(parseByteRange('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
    expect(parseByteRange('bytes=-30', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
  });

  it('refuses ranges past the end, and ignores what it cannot serve as one range', () => {
    expect(parseByteRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange(undefined, 10)).toEqual({ kind: 'full' });
    expect(parseByteRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'full' });
    expect(parseByteRange('items=0-1', 10)).toEqual({ kind: 'full' });
    expect(parseByteRange('bytes=5-2', 10)).toEqual({ kind: 'full' });
  });
});
