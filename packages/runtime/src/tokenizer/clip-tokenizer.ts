import { Tokenizer } from '@huggingface/tokenizers';
import { buildClipTokenizerJson, type ClipSpecialToken } from './clip-tokenizer-json.js';
import { readClipTokenizerFiles, type ClipTokenizerFiles } from './clip-tokenizer-files.js';
import { TokenizerFilesError, TokenizerInputError } from './tokenizer-errors.js';

export interface ClipEncodeOptions {
  /**
   * 'max_length' pads every row to `maxLength` (what diffusers asks for),
   * 'longest' to the longest row of the batch, false not at all.
   */
  padding?: 'max_length' | 'longest' | false;
  /** Defaults to `modelMaxLength` (77 for CLIP). */
  maxLength?: number;
  /** Cut rows longer than `maxLength`, keeping `<|endoftext|>` as the last id. */
  truncation?: boolean;
}

export interface ClipEncoding {
  /** One row per prompt: bos, the prompt's tokens, eos, then padding. */
  inputIds: number[][];
  /** 1 for real tokens (bos and eos included), 0 for padding. */
  attentionMask: number[][];
}

export interface ClipDecodeOptions {
  skipSpecialTokens?: boolean;
}

/**
 * CLIP's BPE tokenizer, as transformers' CLIPTokenizer behaves on SDXL's
 * `tokenizer/` and `tokenizer_2/` folders. The BPE itself is
 * @huggingface/tokenizers, fed the tokenizer.json structure that transformers'
 * converter would build from vocab.json and merges.txt.
 */
export class ClipTokenizer {
  readonly modelMaxLength: number;
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  /** Number of entries in vocab.json. */
  readonly vocabSize: number;
  readonly #tokenizer: Tokenizer;

  private constructor(files: ClipTokenizerFiles) {
    const { vocab, merges, tokenizerConfig, specialTokensMap } = files;
    const declared = declaredAddedTokens(tokenizerConfig);
    // special_tokens_map.json wins over tokenizer_config.json, as in transformers' loader.
    const setting = (key: string, fallback: string) =>
      specialTokenSetting(specialTokensMap[key]) ?? specialTokenSetting(tokenizerConfig[key]) ?? { content: fallback };
    const resolve = (key: string, fallback: string, defaultNormalized: boolean): ClipSpecialToken => {
      const { content, normalized } = setting(key, fallback);
      const id = declared.get(content)?.id ?? vocab[content];
      if (id === undefined) {
        throw new TokenizerFilesError(
          `The ${key} ${JSON.stringify(content)} is neither in vocab.json nor in added_tokens_decoder; ` +
            `fix ${key} in tokenizer_config.json / special_tokens_map.json.`,
        );
      }
      return { content, id, normalized: normalized ?? declared.get(content)?.normalized ?? defaultNormalized };
    };
    const bos = resolve('bos_token', '<|startoftext|>', true);
    const eos = resolve('eos_token', '<|endoftext|>', true);
    const unk = resolve('unk_token', '<|endoftext|>', true);
    // A pad token given as a bare string (SDXL tokenizer_2's '!') is added un-normalized and special,
    // so a '!' typed in a prompt becomes id 0 exactly as transformers does it.
    const pad = resolve('pad_token', '<|endoftext|>', false);
    const extra = [pad, unk, ...declared.values()].filter((t) => t.content !== bos.content && t.content !== eos.content);

    const maxLength = tokenizerConfig.model_max_length;
    // CLIP's text encoders have 77 positions; a folder without the key means that.
    this.modelMaxLength = typeof maxLength === 'number' && Number.isInteger(maxLength) && maxLength > 0 && maxLength < 1e6 ? maxLength : 77;
    this.bosToken = bos.content;
    this.eosToken = eos.content;
    this.padToken = pad.content;
    this.unkToken = unk.content;
    this.bosTokenId = bos.id;
    this.eosTokenId = eos.id;
    this.padTokenId = pad.id;
    this.unkTokenId = unk.id;
    this.vocabSize = Object.keys(vocab).length;
    const json = buildClipTokenizerJson({ vocab, merges, bos, eos, unk: unk.content, extraSpecialTokens: extra });
    this.#tokenizer = new Tokenizer(json, {
      clean_up_tokenization_spaces: tokenizerConfig.clean_up_tokenization_spaces ?? true,
    });
  }

  /** Loads a folder holding vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json. */
  static async fromPretrained(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readClipTokenizerFiles(dir));
  }

  /** Builds from already-parsed files (e.g. fetched over a bridge rather than read from disk). */
  static fromFiles(files: ClipTokenizerFiles): ClipTokenizer {
    return new ClipTokenizer(files);
  }

  /** The BPE tokens of a text, without bos/eos (for inspection and tests). */
  tokenize(text: string): string[] {
    return this.#tokenizer.tokenize(checkText(text, 0));
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#tokenizer.id_to_token(id);
  }

  /**
   * Encodes one prompt or a batch, defaulting to what diffusers asks for:
   * `padding: 'max_length', maxLength: modelMaxLength, truncation: true`.
   */
  encode(text: string | readonly string[], options: ClipEncodeOptions = {}): ClipEncoding {
    const texts = typeof text === 'string' ? [text] : text;
    if (!Array.isArray(texts)) {
      throw new TokenizerInputError(`encode() takes a string or an array of strings, got ${describe(text)}.`);
    }
    const padding = options.padding ?? 'max_length';
    const truncation = options.truncation ?? true;
    const maxLength = options.maxLength ?? this.modelMaxLength;
    if (padding !== 'max_length' && padding !== 'longest' && padding !== false) {
      throw new TokenizerInputError(`padding must be 'max_length', 'longest' or false, got ${describe(padding)}.`);
    }
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new TokenizerInputError(`maxLength must be an integer >= 2 (room for bos and eos), got ${describe(maxLength)}.`);
    }

    const rows = texts.map((t, i) => {
      const ids = this.#tokenizer.encode(checkText(t, i)).ids;
      if (truncation && ids.length > maxLength) {
        return [...ids.slice(0, maxLength - 1), this.eosTokenId];
      }
      return ids;
    });
    const target =
      padding === 'max_length' ? maxLength : padding === 'longest' ? Math.max(0, ...rows.map((r) => r.length)) : 0;
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    for (const ids of rows) {
      const padCount = Math.max(0, target - ids.length);
      inputIds.push([...ids, ...new Array<number>(padCount).fill(this.padTokenId)]);
      attentionMask.push([...new Array<number>(ids.length).fill(1), ...new Array<number>(padCount).fill(0)]);
    }
    return { inputIds, attentionMask };
  }

  /** Ids back to text; special tokens are kept unless `skipSpecialTokens`. */
  decode(ids: ArrayLike<number> | ArrayLike<bigint>, options: ClipDecodeOptions = {}): string {
    const list = Array.from(ids as ArrayLike<number | bigint>, (id, i) => {
      const n = Number(id);
      if (!Number.isInteger(n) || this.#tokenizer.id_to_token(n) === undefined) {
        throw new TokenizerInputError(`decode(): id ${String(id)} at position ${i} is not in this tokenizer's vocabulary.`);
      }
      return n;
    });
    if (list.length === 0) return '';
    // transformers strips the text CLIP's `</w>` → ' ' replacement leaves at the end.
    return this.#tokenizer.decode(list, { skip_special_tokens: options.skipSpecialTokens ?? false }).trim();
  }
}

interface SpecialTokenSetting {
  content: string;
  normalized?: boolean;
}

/** A special token entry: a bare string or an AddedToken-like `{ content, normalized }`. */
function specialTokenSetting(value: unknown): SpecialTokenSetting | undefined {
  if (typeof value === 'string') return { content: value };
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    const { content, normalized } = value as { content: string; normalized?: unknown };
    return typeof normalized === 'boolean' ? { content, normalized } : { content };
  }
  return undefined;
}

/** tokenizer_config.json's `added_tokens_decoder` (newer transformers writes it), keyed by content. */
function declaredAddedTokens(config: Record<string, unknown>): Map<string, ClipSpecialToken> {
  const declared = new Map<string, ClipSpecialToken>();
  const decoder = config.added_tokens_decoder;
  if (decoder === null || typeof decoder !== 'object') return declared;
  for (const [key, value] of Object.entries(decoder)) {
    const setting = specialTokenSetting(value);
    const id = Number(key);
    if (!setting || !Number.isInteger(id) || id < 0) {
      throw new TokenizerFilesError(`tokenizer_config.json: added_tokens_decoder entry ${JSON.stringify(key)} is malformed.`);
    }
    declared.set(setting.content, { content: setting.content, id, normalized: setting.normalized ?? false });
  }
  return declared;
}

function checkText(text: unknown, index: number): string {
  if (typeof text !== 'string') {
    throw new TokenizerInputError(`Prompt ${index} is ${describe(text)}; prompts must be strings (use '' for an empty prompt).`);
  }
  return text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? 'an object' : String(value);
}
