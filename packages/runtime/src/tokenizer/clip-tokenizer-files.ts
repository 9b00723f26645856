import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Merge } from './learn-bpe-merges.js';
import { TokenizerFilesError } from './tokenizer-errors.js';

/** What a CLIP tokenizer folder (vocab.json, merges.txt, two configs) holds, parsed. */
export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  merges: Merge[];
  /** tokenizer_config.json, as written (snake_case keys). */
  tokenizerConfig: Record<string, unknown>;
  /** special_tokens_map.json, as written; `{}` when the folder has none. */
  specialTokensMap: Record<string, unknown>;
}

/**
 * transformers' CLIPTokenizer reads at most this many merges (49152 tokens
 * minus 256 bytes, 256 byte-ends and 2 specials would overflow the 49408
 * embedding rows otherwise), so extra lines in a merges.txt are ignored.
 */
export const CLIP_MAX_MERGES = 49152 - 256 - 2;

export async function readClipTokenizerFiles(dir: string): Promise<ClipTokenizerFiles> {
  const vocab = parseVocab(await readRequired(dir, 'vocab.json'), join(dir, 'vocab.json'));
  const merges = parseMerges(await readRequired(dir, 'merges.txt'), join(dir, 'merges.txt'));
  const tokenizerConfig = parseJsonObject(await readOptional(dir, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  const specialTokensMap = parseJsonObject(await readOptional(dir, 'special_tokens_map.json'), join(dir, 'special_tokens_map.json'));
  return { vocab, merges, tokenizerConfig, specialTokensMap };
}

export function parseVocab(text: string, where = 'vocab.json'): Record<string, number> {
  const parsed = parseJson(text, where);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TokenizerFilesError(`${where} must be a JSON object mapping tokens to ids.`);
  }
  for (const [token, id] of Object.entries(parsed)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TokenizerFilesError(`${where}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids must be non-negative integers.`);
    }
  }
  return parsed as Record<string, number>;
}

/** merges.txt: an optional `#version` header, then one `left right` pair a line. */
export function parseMerges(text: string, where = 'merges.txt'): Merge[] {
  const lines = text.split(/\r?\n/);
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const merges: Merge[] = [];
  for (let i = start; i < lines.length && merges.length < CLIP_MAX_MERGES; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new TokenizerFilesError(`${where} line ${i + 1} is ${JSON.stringify(line)}; each merge must be two symbols separated by one space.`);
    }
    merges.push([parts[0], parts[1]]);
  }
  return merges;
}

async function readRequired(dir: string, name: string): Promise<string> {
  const text = await readOptional(dir, name);
  if (text === undefined) {
    throw new TokenizerFilesError(
      `No ${name} in ${dir}. A CLIP tokenizer folder needs vocab.json and merges.txt (plus tokenizer_config.json); ` +
        `point at the repo's tokenizer/ or tokenizer_2/ subfolder.`,
    );
  }
  return text;
}

async function readOptional(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenizerFilesError(`Cannot read ${join(dir, name)}: ${(error as Error).message}`, { cause: error });
  }
}

function parseJsonObject(text: string | undefined, where: string): Record<string, unknown> {
  if (text === undefined) return {};
  const parsed = parseJson(text, where);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TokenizerFilesError(`${where} must hold a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerFilesError(`${where} is not valid JSON (${(error as Error).message}).`, { cause: error });
  }
}
