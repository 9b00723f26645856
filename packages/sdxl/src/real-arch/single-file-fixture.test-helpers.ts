/**
 * The single-file checkpoint fixture (fixtures/adapters/single-file): the checkpoint, its tiny
 * config repo, diffusers' references, and copies with their header edited or bytes cut for the
 * bad-input tests.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modular-diffusers/runtime';

export const SINGLE_FILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'adapters', 'single-file');
export const SINGLE_FILE_CHECKPOINT = join(SINGLE_FILE_DIR, 'tiny-sdxl-base.safetensors');
export const SINGLE_FILE_CONFIG_REPO = join(SINGLE_FILE_DIR, 'config-repo');

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

export interface SingleFileReferences {
  params: Record<string, any>;
  float(name: string): Tensor<'float32'>;
  uint8(name: string): { data: Uint8Array; shape: number[] };
}

function parse(raw: Buffer): { header: Record<string, Entry>; base: number } {
  const length = Number(raw.readBigUInt64LE(0));
  return { header: JSON.parse(raw.subarray(8, 8 + length).toString('utf8')), base: 8 + length };
}

export async function loadSingleFileReferences(): Promise<SingleFileReferences> {
  const raw = await readFile(join(SINGLE_FILE_DIR, 'references', 'references.safetensors'));
  const { header, base } = parse(raw);
  const bytes = (name: string, dtype: string) => {
    const entry = header[name];
    if (!entry || entry.dtype !== dtype) throw new Error(`No ${dtype} reference '${name}'`);
    const [start, end] = entry.data_offsets;
    return { buffer: raw.buffer.slice(raw.byteOffset + base + start, raw.byteOffset + base + end), shape: entry.shape };
  };
  const json = JSON.parse(await readFile(join(SINGLE_FILE_DIR, 'references', 'references.json'), 'utf8'));
  return {
    params: json.params,
    float: (name) => {
      const { buffer, shape } = bytes(name, 'F32');
      return new Tensor('float32', new Float32Array(buffer), shape);
    },
    uint8: (name) => {
      const { buffer, shape } = bytes(name, 'U8');
      return { data: new Uint8Array(buffer), shape };
    },
  };
}

/** A copy of the checkpoint in a temp folder, its header edited (the tensor bytes stay as they are). */
export async function editedCheckpoint(edit: (header: Record<string, Entry>) => void, name = 'edited.safetensors'): Promise<string> {
  const raw = await readFile(SINGLE_FILE_CHECKPOINT);
  const { header, base } = parse(raw);
  edit(header);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  const dir = await mkdtemp(join(tmpdir(), 'single-file-'));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([length, Buffer.from(text), raw.subarray(base)]));
  return path;
}

/** A safetensors file of zero-filled F32 tensors with the given names and shapes. */
export async function syntheticCheckpoint(tensors: Record<string, number[]>, name = 'other.safetensors'): Promise<string> {
  const header: Record<string, Entry> = {};
  let offset = 0;
  for (const [key, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  const dir = await mkdtemp(join(tmpdir(), 'single-file-'));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([length, Buffer.from(text), Buffer.alloc(offset)]));
  return path;
}
