/** Test support: a fixture folder copied to a temp dir, with its config or safetensors header edited. */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './reference.js';

export async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mb-${name}-`));
  await cp(fixture(name), dir, { recursive: true, filter: (src) => !src.includes('/export') && !src.includes('reference') });
  return dir;
}

export async function editConfig(folder: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const path = join(folder, 'config.json');
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(path, JSON.stringify(config));
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Rewrites a safetensors header (the tensor bytes stay as they are). */
export async function editSafetensorsHeader(path: string, edit: (header: Record<string, HeaderEntry>) => void): Promise<void> {
  const bytes = await readFile(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, HeaderEntry>;
  edit(header);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await writeFile(path, Buffer.concat([prefix, Buffer.from(text), bytes.subarray(8 + length)]));
}
