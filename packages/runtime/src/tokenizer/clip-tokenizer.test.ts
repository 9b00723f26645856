import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from './clip-tokenizer.js';
import { buildTinyClipVocabulary, writeTinyClipTokenizerFiles } from './tiny-vocab.js';
import { TokenizerFilesError, TokenizerInputError } from './tokenizer-errors.js';

// Expected ids come from the tiny vocabulary's construction (see tiny-vocab.ts):
// byte symbols 0..255, byte symbols + '</w>' 256..511 (so 'a</w>' = 256 + 64 = 320,
// '!</w>' = 256, ','</w> = 256 + 11 = 267), merged tokens from 512 in merge order,
// then bos and eos as the last two ids. Whole words are looked up by their token text.
const { vocab, merges } = buildTinyClipVocabulary();
const id = (token: string): number => {
  const value = vocab[token];
  if (value === undefined) throw new Error(`test expects ${token} in the tiny vocabulary`);
  return value;
};
const BOS = 512 + merges.length;
const EOS = BOS + 1;

let root: string;
let tokenizer: ClipTokenizer; // like SDXL's tokenizer/: pads with <|endoftext|>
let tokenizer2: ClipTokenizer; // like SDXL's tokenizer_2/: pads with '!'
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clip-tokenizer-'));
  await writeTinyClipTokenizerFiles(join(root, 'tokenizer'), { padToken: '<|endoftext|>' });
  await writeTinyClipTokenizerFiles(join(root, 'tokenizer_2'), { padToken: '!' });
  tokenizer = await ClipTokenizer.fromPretrained(join(root, 'tokenizer'));
  tokenizer2 = await ClipTokenizer.fromPretrained(join(root, 'tokenizer_2'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const padded = (ids: number[], pad: number, length = 77) => [...ids, ...new Array(length - ids.length).fill(pad)];
const mask = (ones: number, length = 77) => [...new Array(ones).fill(1), ...new Array(length - ones).fill(0)];

describe('ClipTokenizer', () => {
  it('reads its special tokens and length from the folder', () => {
    expect(tokenizer.modelMaxLength).toBe(77);
    expect([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId]).toEqual([BOS, EOS, EOS]);
    expect(tokenizer2.padToken).toBe('!');
    expect(tokenizer2.padTokenId).toBe(0); // '!' is the first byte symbol, as in the real vocabulary
    expect(tokenizer.vocabSize).toBe(EOS + 1);
  });

  it('encodes a prompt as bos, one id per known word, eos, padded to 77 (diffusers defaults)', () => {
    const ids = [BOS, 320, id('photo</w>'), id('of</w>'), 320, id('cat</w>'), EOS];
    const { inputIds, attentionMask } = tokenizer.encode('a photo of a cat');
    expect(inputIds).toEqual([padded(ids, EOS)]);
    expect(attentionMask).toEqual([mask(7)]);
  });

  it('pads tokenizer_2 with the id of "!" (0) instead of eos', () => {
    const { inputIds, attentionMask } = tokenizer2.encode('a green pear');
    expect(inputIds[0]).toEqual(padded([BOS, 320, id('green</w>'), id('pear</w>'), EOS], 0));
    expect(attentionMask[0]).toEqual(mask(5));
    // '!' is a special token there, so skipping specials drops the padding too.
    expect(tokenizer2.decode(inputIds[0]!, { skipSpecialTokens: true })).toBe('a green pear');
  });

  it('lower-cases and collapses whitespace before BPE', () => {
    const plain = tokenizer.encode('a photo of a cat').inputIds;
    expect(tokenizer.encode('A  PHOTO\tof a\nCat').inputIds).toEqual(plain);
  });

  it('splits punctuation from words', () => {
    // ',' and '!' are their own pre-tokens: ',</w>' = 267, '!</w>' = 256.
    expect(tokenizer.encode('a cat, a dog!', { padding: false }).inputIds[0]).toEqual([
      BOS, 320, id('cat</w>'), 267, 320, id('dog</w>'), 256, EOS,
    ]);
  });

  it("treats '!' in a tokenizer_2 prompt as its special pad token, as transformers does", () => {
    // transformers registers the pad token '!' as a special added token, so '!!' is two
    // id-0 tokens there (diffusers issue #4153); tokenizer/ has no such token: '!' '!</w>' = 0, 256.
    expect(tokenizer2.encode('cat!!', { padding: false }).inputIds[0]).toEqual([BOS, id('cat</w>'), 0, 0, EOS]);
    expect(tokenizer.encode('cat!!', { padding: false }).inputIds[0]).toEqual([BOS, id('cat</w>'), 0, 256, EOS]);
  });

  it('falls back to byte-level pieces for out-of-vocabulary words', () => {
    // No listed word holds 'jj' or 'jk', so no merge applies: 'j' = 0x6a - 0x21 = 73, 'k</w>' = 256 + 74.
    expect(tokenizer.tokenize('jjk')).toEqual(['j', 'j', 'k</w>']);
    expect(tokenizer.encode('jjk', { padding: false }).inputIds[0]).toEqual([BOS, 73, 73, 330, EOS]);
    // 'é' is UTF-8 C3 A9: 'Ã' (0xC3: 94 + 12 + (0xC3 - 0xAE) = 127) then '©</w>' (256 + 94 + (0xA9 - 0xA1) = 358).
    expect(tokenizer.encode('é', { padding: false }).inputIds[0]).toEqual([BOS, 127, 358, EOS]);
    // A word that is not listed but shares pieces with listed ones splits into several known tokens.
    const pieces = tokenizer.tokenize('cats');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('cats</w>');
  });

  it('splits digits one by one and keeps contractions apart', () => {
    // '4</w>' = 256 + (0x34 - 0x21) = 275, '2</w>' = 273; "'s" is one pre-token: "'" (6) 's</w>' (256 + 82).
    expect(tokenizer.tokenize("it's 42")).toEqual(['it</w>', "'", 's</w>', '4</w>', '2</w>']);
    expect(tokenizer.encode("it's 42", { padding: false }).inputIds[0]).toEqual([BOS, id('it</w>'), 6, 338, 275, 273, EOS]);
  });

  it('truncates to 77 ids keeping eos last', () => {
    const long = new Array(100).fill('cat').join(' ');
    const { inputIds, attentionMask } = tokenizer.encode(long);
    expect(inputIds[0]).toEqual([BOS, ...new Array(75).fill(id('cat</w>')), EOS]);
    expect(attentionMask[0]).toEqual(mask(77));
    const untruncated = tokenizer.encode(long, { truncation: false, padding: 'longest' }).inputIds[0]!;
    expect(untruncated.length).toBe(102);
    expect(tokenizer.encode(long, { maxLength: 5, padding: false }).inputIds[0]).toEqual([BOS, ...new Array(3).fill(id('cat</w>')), EOS]);
  });

  it('encodes a batch, padding to max_length or to the longest row', () => {
    const prompts = ['a cat', 'a green pear', ''];
    const full = tokenizer2.encode(prompts);
    expect(full.inputIds.map((row) => row.length)).toEqual([77, 77, 77]);
    expect(full.attentionMask.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([4, 5, 2]);

    const longest = tokenizer2.encode(prompts, { padding: 'longest' });
    expect(longest.inputIds).toEqual([
      [BOS, 320, id('cat</w>'), EOS, 0],
      [BOS, 320, id('green</w>'), id('pear</w>'), EOS],
      [BOS, EOS, 0, 0, 0],
    ]);
    expect(longest.attentionMask).toEqual([
      [1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1],
      [1, 1, 0, 0, 0],
    ]);
  });

  it('encodes the empty prompt as bos, eos and padding', () => {
    const { inputIds, attentionMask } = tokenizer.encode('');
    expect(inputIds[0]).toEqual(padded([BOS, EOS], EOS));
    expect(attentionMask[0]).toEqual(mask(2));
  });

  it('decodes ids back to text, with or without special tokens', () => {
    const ids = tokenizer.encode('A photo, of a CAT!!').inputIds[0]!;
    expect(tokenizer.decode(ids.slice(0, 10))).toBe('<|startoftext|>a photo, of a cat!! <|endoftext|>');
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('a photo, of a cat!!');
    expect(tokenizer.decode(Int32Array.from([320, id('cat</w>')]))).toBe('a cat');
    expect(tokenizer.decode([])).toBe('');
  });

  it('rejects bad input with typed errors', () => {
    expect(() => tokenizer.encode(42 as never)).toThrow(TokenizerInputError);
    expect(() => tokenizer.encode(['ok', null as never])).toThrow(/Prompt 1 is null/);
    expect(() => tokenizer.encode('x', { maxLength: 1 })).toThrow(/maxLength/);
    expect(() => tokenizer.decode([EOS + 1])).toThrow(/not in this tokenizer's vocabulary/);
  });

  it('reports a folder without vocab.json or with a broken merges.txt', async () => {
    await expect(ClipTokenizer.fromPretrained(join(root, 'missing'))).rejects.toThrow(TokenizerFilesError);
    await expect(ClipTokenizer.fromPretrained(join(root, 'missing'))).rejects.toThrow(/vocab\.json/);
    const broken = join(root, 'broken');
    await writeTinyClipTokenizerFiles(broken);
    await writeFile(join(broken, 'merges.txt'), '#version: 0.2\na b c\n');
    await expect(ClipTokenizer.fromPretrained(broken)).rejects.toThrow(/merges\.txt line 2/);
  });

  it('honours model_max_length and an added_tokens_decoder pad entry (newer transformers configs)', async () => {
    const dir = join(root, 'short');
    await writeTinyClipTokenizerFiles(dir, { modelMaxLength: 8 });
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({
        model_max_length: 8,
        pad_token: '!',
        added_tokens_decoder: { '0': { content: '!', normalized: false, special: true } },
      }),
    );
    await writeFile(join(dir, 'special_tokens_map.json'), '{}');
    const short = await ClipTokenizer.fromPretrained(dir);
    expect(short.modelMaxLength).toBe(8);
    expect(short.encode('a cat').inputIds[0]).toEqual([BOS, 320, id('cat</w>'), EOS, 0, 0, 0, 0]);
  });
});
