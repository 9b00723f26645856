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

/** Rewrites every F32 tensor of a safetensors file through `convert` (to dtype `to`), keeping names and order. */
export async function convertSafetensors(source: string, target: string, to: 'F32' | 'BF16', convert: (values: Float32Array) => Uint8Array): Promise<void> {
  const bytes = await readFile(source);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, HeaderEntry>;
  const dataStart = 8 + length;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__').sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  const chunks: Buffer[] = [];
  let offset = 0;
  const out: Record<string, HeaderEntry> = {};
  for (const [key, entry] of entries) {
    let raw: Uint8Array = bytes.subarray(dataStart + entry.data_offsets[0], dataStart + entry.data_offsets[1]);
    let dtype = entry.dtype;
    if (entry.dtype === 'F32') {
      raw = convert(new Float32Array(new Uint8Array(raw).buffer));
      dtype = to;
    }
    out[key] = { dtype, shape: entry.shape, data_offsets: [offset, offset + raw.length] };
    chunks.push(Buffer.from(raw));
    offset += raw.length;
  }
  let text = JSON.stringify(out);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await writeFile(target, Buffer.concat([prefix, Buffer.from(text), ...chunks]));
}
