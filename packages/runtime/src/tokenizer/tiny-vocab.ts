import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@modular-diffusers/atomic-file';
import { byteLevelAlphabet } from './byte-level-alphabet.js';
import { END_OF_WORD, learnBpeMerges, type Merge } from './learn-bpe-merges.js';

export const CLIP_BOS_TOKEN = '<|startoftext|>';
export const CLIP_EOS_TOKEN = '<|endoftext|>';

/**
 * Words the tiny vocabulary learns whole, so prompts in tests and the demo
 * tokenize to one id per word, as they would with the real CLIP vocabulary.
 * Lowercase letters only: CLIP lower-cases before BPE. Any other word still
 * tokenizes, falling back to smaller pieces and finally single bytes.
 */
export const TINY_CLIP_WORDS: readonly string[] = [
  'a', 'an', 'the', 'of', 'in', 'on', 'at', 'with', 'and', 'by', 'to', 'from', 'is',
  'photo', 'picture', 'painting', 'portrait', 'drawing', 'image', 'render', 'art', 'style',
  'cat', 'dog', 'bird', 'fish', 'horse', 'fox', 'owl', 'astronaut', 'man', 'woman', 'girl', 'boy',
  'pear', 'apple', 'fruit', 'bowl', 'table', 'flower', 'flowers', 'tree', 'trees', 'house',
  'red', 'green', 'blue', 'yellow', 'orange', 'purple', 'pink', 'white', 'black', 'brown',
  'gray', 'golden', 'silver', 'colorful',
  'sky', 'sun', 'moon', 'stars', 'cloud', 'clouds', 'sunset', 'sunrise', 'night', 'day',
  'mountain', 'mountains', 'river', 'lake', 'sea', 'ocean', 'beach', 'forest', 'field', 'grass',
  'snow', 'rain', 'water', 'fire', 'stone', 'wooden', 'city', 'street', 'car',
  'blurry', 'sharp', 'focus', 'detailed', 'beautiful', 'cute', 'small', 'big', 'old',
  'low', 'high', 'quality', 'best', 'worst', 'ugly', 'deformed', 'lowres', 'masterpiece',
  'cinematic', 'realistic', 'lighting', 'light', 'dark', 'bright', 'soft', 'background',
  'riding', 'sitting', 'standing', 'wearing', 'hat', 'oil', 'watercolor', 'hello', 'world',
];

export interface TinyClipVocabulary {
  /** token -> id, in CLIP's order: bytes, bytes + `</w>`, merges, then bos and eos. */
  vocab: Record<string, number>;
  merges: Merge[];
}

/**
 * Builds a small but real CLIP-format BPE vocabulary the way CLIP's own
 * vocabulary is laid out: the 256 byte-level symbols, the same 256 with
 * `</w>`, one token per merge in merge order, then `<|startoftext|>` and
 * `<|endoftext|>` last.
 */
export function buildTinyClipVocabulary(words: readonly string[] = TINY_CLIP_WORDS): TinyClipVocabulary {
  const alphabet = byteLevelAlphabet();
  const merges = learnBpeMerges(words);
  const tokens = [
    ...alphabet,
    ...alphabet.map((symbol) => symbol + END_OF_WORD),
    ...merges.map(([left, right]) => left + right),
    CLIP_BOS_TOKEN,
    CLIP_EOS_TOKEN,
  ];
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => {
    if (token in vocab) throw new Error(`Tiny CLIP vocabulary would hold '${token}' twice.`);
    vocab[token] = id;
  });
  return { vocab, merges };
}

export interface TinyClipTokenizerOptions {
  /** `'<|endoftext|>'` like SDXL's `tokenizer/`, `'!'` like its `tokenizer_2/`. */
  padToken?: '<|endoftext|>' | '!';
  /** Defaults to CLIP's 77. */
  modelMaxLength?: number;
}

/**
 * Writes vocab.json, merges.txt, tokenizer_config.json and
 * special_tokens_map.json into `dir`, with the keys SDXL's tokenizer folders
 * have. Deterministic: the same call always writes the same bytes.
 */
export async function writeTinyClipTokenizerFiles(
  dir: string,
  options: TinyClipTokenizerOptions = {},
): Promise<void> {
  const padToken = options.padToken ?? CLIP_EOS_TOKEN;
  if (padToken !== CLIP_EOS_TOKEN && padToken !== '!') {
    throw new TypeError(`padToken must be '<|endoftext|>' or '!', got ${JSON.stringify(padToken)}.`);
  }
  const { vocab, merges } = buildTinyClipVocabulary();
  const specialToken = (content: string) => ({
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
  });
  const specialTokensMap = {
    bos_token: specialToken(CLIP_BOS_TOKEN),
    eos_token: specialToken(CLIP_EOS_TOKEN),
    pad_token: padToken,
    unk_token: specialToken(CLIP_EOS_TOKEN),
  };
  const tokenizerConfig = {
    add_prefix_space: false,
    bos_token: { __type: 'AddedToken', ...specialToken(CLIP_BOS_TOKEN) },
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: { __type: 'AddedToken', ...specialToken(CLIP_EOS_TOKEN) },
    errors: 'replace',
    model_max_length: options.modelMaxLength ?? 77,
    pad_token: padToken,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: { __type: 'AddedToken', ...specialToken(CLIP_EOS_TOKEN) },
  };
  await writeFileAtomic(join(dir, 'vocab.json'), JSON.stringify(vocab));
  await writeFileAtomic(
    join(dir, 'merges.txt'),
    ['#version: 0.2', ...merges.map(([left, right]) => `${left} ${right}`)].join('\n') + '\n',
  );
  await writeJsonAtomic(join(dir, 'tokenizer_config.json'), tokenizerConfig);
  await writeJsonAtomic(join(dir, 'special_tokens_map.json'), specialTokensMap);
}
