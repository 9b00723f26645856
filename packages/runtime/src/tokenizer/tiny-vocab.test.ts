import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from './clip-tokenizer.js';
import { buildTinyClipVocabulary, TINY_CLIP_WORDS, writeTinyClipTokenizerFiles } from './tiny-vocab.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tiny-clip-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('buildTinyClipVocabulary', () => {
  const { vocab, merges } = buildTinyClipVocabulary();

  it("lays the byte symbols out in CLIP's order (ids equal to the real CLIP vocabulary's)", () => {
    // Printable ASCII from '!' (0x21) first: '!' = 0, 'a' = 0x61 - 0x21 = 64.
    expect(vocab['!']).toBe(0);
    expect(vocab['a']).toBe(64);
    // Then 0xA1..0xAC (12 symbols) and 0xAE..0xFF (82): 94 + 12 + 82 = 188 printable,
    // so byte 0 (written U+0100 'Ā') is 188 and the space byte 0x20 (written 'Ġ') is 188 + 32 = 220.
    expect(vocab['Ā']).toBe(188);
    expect(vocab['Ġ']).toBe(220);
    // The same 256 with '</w>' follow: 'a</w>' = 256 + 64 = 320, '!</w>' = 256, ',</w>' = 256 + 11 = 267.
    expect(vocab['a</w>']).toBe(320);
    expect(vocab['!</w>']).toBe(256);
    expect(vocab[',</w>']).toBe(267);
  });

  it('gives every merge the next id in merge order, and puts bos and eos last', () => {
    expect(merges.length).toBeGreaterThan(200);
    expect(merges.length).toBeLessThan(1000);
    merges.forEach(([left, right], i) => expect(vocab[left + right]).toBe(512 + i));
    const size = Object.keys(vocab).length;
    expect(size).toBe(512 + merges.length + 2);
    expect(vocab['<|startoftext|>']).toBe(size - 2);
    expect(vocab['<|endoftext|>']).toBe(size - 1);
  });

  it('holds every listed word as one whole-word token', () => {
    for (const word of TINY_CLIP_WORDS) expect(vocab[`${word}</w>`], word).toBeTypeOf('number');
  });
});

describe('writeTinyClipTokenizerFiles', () => {
  it('writes the four files SDXL tokenizer folders have, with their keys', async () => {
    const dir = join(root, 'tokenizer_2');
    await writeTinyClipTokenizerFiles(dir, { padToken: '!' });
    const merges = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n');
    expect(merges[0]).toBe('#version: 0.2');
    expect(merges.length).toBe(buildTinyClipVocabulary().merges.length + 2); // header + merges + final newline
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_max_length: 77,
      pad_token: '!',
      do_lower_case: true,
      errors: 'replace',
      tokenizer_class: 'CLIPTokenizer',
      bos_token: { content: '<|startoftext|>' },
      eos_token: { content: '<|endoftext|>' },
      unk_token: { content: '<|endoftext|>' },
    });
    const map = JSON.parse(await readFile(join(dir, 'special_tokens_map.json'), 'utf8'));
    expect(Object.keys(map).sort()).toEqual(['bos_token', 'eos_token', 'pad_token', 'unk_token']);
    expect(map.pad_token).toBe('!');
  });

  it('is deterministic: two writes give identical bytes', async () => {
    await writeTinyClipTokenizerFiles(join(root, 'one'), { padToken: '<|endoftext|>' });
    await writeTinyClipTokenizerFiles(join(root, 'two'), { padToken: '<|endoftext|>' });
    for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      expect(await readFile(join(root, 'two', name), 'utf8')).toBe(await readFile(join(root, 'one', name), 'utf8'));
    }
  });

  it('rejects a pad token SDXL does not use', async () => {
    await expect(writeTinyClipTokenizerFiles(join(root, 'bad'), { padToken: '<pad>' as never })).rejects.toThrow(/padToken/);
  });

  it('round-trips through ClipTokenizer: each listed word encodes to its single token', async () => {
    const dir = join(root, 'tokenizer');
    await writeTinyClipTokenizerFiles(dir);
    const tokenizer = await ClipTokenizer.fromPretrained(dir);
    for (const word of TINY_CLIP_WORDS) expect(tokenizer.tokenize(word), word).toEqual([`${word}</w>`]);
  });
});
