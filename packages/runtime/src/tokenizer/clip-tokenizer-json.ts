import { END_OF_WORD } from './learn-bpe-merges.js';
import { TokenizerFilesError } from './tokenizer-errors.js';

/**
 * CLIP's pre-tokenization split: contractions, runs of letters, single
 * digits, runs of anything else that is not whitespace. Oniguruma syntax, as
 * tokenizer.json stores it; @huggingface/tokenizers translates it.
 */
export const CLIP_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** A special token and the id the vocabulary gives it. */
export interface ClipSpecialToken {
  content: string;
  id: number;
  /** Whether the normalizer runs before matching it in text (true for bos/eos in CLIP). */
  normalized: boolean;
}

export interface ClipTokenizerJsonInput {
  vocab: Record<string, number>;
  merges: ReadonlyArray<readonly [string, string]>;
  bos: ClipSpecialToken;
  eos: ClipSpecialToken;
  unk: string;
  /** Other special tokens (e.g. a pad token such as `!` that is not eos). */
  extraSpecialTokens?: readonly ClipSpecialToken[];
}

/**
 * The tokenizer.json structure transformers' CLIP fast-tokenizer converter
 * would produce from vocab.json + merges.txt, built in memory because SDXL's
 * tokenizer folders ship no tokenizer.json:
 * normalizer NFC -> collapse whitespace runs -> lowercase; pre-tokenizer
 * CLIP split -> byte-level; BPE with `</w>` word ends; byte-level decoder;
 * `<|startoftext|> ... <|endoftext|>` around every sequence.
 */
export function buildClipTokenizerJson(input: ClipTokenizerJsonInput): Record<string, unknown> {
  const { vocab, merges, bos, eos, unk } = input;
  if (!(unk in vocab)) {
    throw new TokenizerFilesError(`The unknown token '${unk}' is not in vocab.json; check unk_token in tokenizer_config.json.`);
  }
  const specials = [bos, eos, ...(input.extraSpecialTokens ?? [])];
  const seen = new Set<string>();
  const addedTokens = specials
    .filter((token) => (seen.has(token.content) ? false : (seen.add(token.content), true)))
    .map((token) => ({
      id: token.id,
      content: token.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: token.normalized,
      special: true,
    }));
  return {
    version: '1.0',
    added_tokens: addedTokens,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos.content, eos.id],
      cls: [bos.content, bos.id],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([left, right]) => [left, right]),
    },
  };
}
