import { describe, expect, it } from 'vitest';
import { learnBpeMerges } from './learn-bpe-merges.js';

describe('learnBpeMerges', () => {
  it('merges the most frequent pair first', () => {
    // 'ab' and 'cab' both end in (a, b</w>): count 2 beats (c, a): count 1.
    expect(learnBpeMerges(['ab', 'cab'])).toEqual([
      ['a', 'b</w>'],
      ['c', 'ab</w>'],
    ]);
  });

  it('breaks ties by the sorted text of the pair, and stops when every word is one symbol', () => {
    // Round 1: 'a b' | 'a b</w>' | 'b c</w>' all count 1; "a b" sorts first.
    // Round 2: 'a b</w>' | 'ab c</w>'; "a b</w>" sorts first (' ' < 'b').
    expect(learnBpeMerges(['ab', 'abc'])).toEqual([
      ['a', 'b'],
      ['a', 'b</w>'],
      ['ab', 'c</w>'],
    ]);
  });

  it('works on byte-level symbols, so non-ASCII words learn merges of their UTF-8 bytes', () => {
    // 'é' is UTF-8 C3 A9, which the byte-level alphabet writes 'Ã' '©'.
    expect(learnBpeMerges(['é'])).toEqual([['Ã', '©</w>']]);
  });
});
