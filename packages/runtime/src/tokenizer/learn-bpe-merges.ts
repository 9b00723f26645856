import { toByteLevelSymbols } from './byte-level-alphabet.js';

/** CLIP marks the last symbol of every word with this suffix. */
export const END_OF_WORD = '</w>';

export type Merge = readonly [left: string, right: string];

/**
 * Learns BPE merges from a word list the way BPE training does (Sennrich et
 * al.): start from byte-level characters with `</w>` on the last one, then
 * repeatedly merge the most frequent adjacent pair everywhere, until every
 * word is a single symbol. Ties go to the pair whose `"left right"` text
 * sorts first, so the result is deterministic.
 *
 * Only used to generate small test vocabularies; encoding with the merges is
 * @huggingface/tokenizers' job.
 */
export function learnBpeMerges(words: readonly string[]): Merge[] {
  const segmented = [...new Set(words)].map((word) => {
    const symbols = toByteLevelSymbols(word);
    symbols[symbols.length - 1] += END_OF_WORD;
    return symbols;
  });
  const merges: Merge[] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const symbols of segmented) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) return merges;
    const [left, right] = best.split(' ') as [string, string];
    merges.push([left, right]);
    for (const symbols of segmented) mergeInPlace(symbols, left, right);
  }
}

function mergeInPlace(symbols: string[], left: string, right: string): void {
  for (let i = 0; i + 1 < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right) symbols.splice(i, 2, left + right);
  }
}
