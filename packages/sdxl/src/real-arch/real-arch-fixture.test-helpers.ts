/**
 * The real-architecture fixtures (packages/sdxl/fixtures/real-arch, made by
 * tools/reference/diffusers-fixtures/make_sdxl_fixtures.py with diffusers' own classes):
 * the references diffusers computed, and the repo layouts tests assemble from the committed
 * files (stabilityai's mixed folder, a pure Optimum output folder, fp16 and float-timestep
 * exports).
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modular-diffusers/runtime';

export const REAL_ARCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'real-arch');
export const REAL_ARCH_REPO = join(REAL_ARCH_DIR, 'repo');

type RefDtype = 'float32' | 'int64' | 'uint8';
const DTYPES: Record<string, { dtype: RefDtype; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 },
  I64: { dtype: 'int64', bytes: 8 },
  U8: { dtype: 'uint8', bytes: 1 },
};

export interface References {
  params: Record<string, any>;
  float(name: string): Tensor<'float32'>;
  int64(name: string): Tensor<'int64'>;
  uint8(name: string): { data: Uint8Array; shape: number[] };
}

const cached = new Map<string, References>();

/** The adapter fixture sets (packages/sdxl/fixtures/adapters/<name>, tools/reference/adapter-fixtures/<name>). */
export const ADAPTER_FIXTURES_DIR = join(REAL_ARCH_DIR, '..', 'adapters');

/**
 * references/references.safetensors (+ references.json) of a fixture set (default: real-arch's), read
 * with the format's own rules (8-byte length, JSON header, raw LE bytes).
 */
export async function loadReferences(folder = join(REAL_ARCH_DIR, 'references')): Promise<References> {
  const known = cached.get(folder);
  if (known) return known;
  const raw = await readFile(join(folder, 'references.safetensors'));
  const length = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + length).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + length;
  const bytes = (name: string, want: RefDtype) => {
    const entry = header[name];
    if (!entry) throw new Error(`No reference '${name}' in references.safetensors`);
    if (DTYPES[entry.dtype]?.dtype !== want) throw new Error(`Reference '${name}' is ${entry.dtype}, not ${want}`);
    const [start, end] = entry.data_offsets;
    return { buffer: raw.buffer.slice(raw.byteOffset + base + start, raw.byteOffset + base + end), shape: entry.shape };
  };
  const json = JSON.parse(await readFile(join(folder, 'references.json'), 'utf8'));
  const references: References = {
    params: json.params,
    float: (name) => {
      const { buffer, shape } = bytes(name, 'float32');
      return new Tensor('float32', new Float32Array(buffer), shape);
    },
    int64: (name) => {
      const { buffer, shape } = bytes(name, 'int64');
      return new Tensor('int64', new BigInt64Array(buffer), shape);
    },
    uint8: (name) => {
      const { buffer, shape } = bytes(name, 'uint8');
      return { data: new Uint8Array(buffer), shape };
    },
  };
  cached.set(folder, references);
  return references;
}

/** max |a - b| / max |b|: the tolerance the issue states for latents is 1e-5 of their magnitude. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  return diff;
}

/** The reference input image as an RgbImage (HWC uint8). */
export function referenceImage(refs: References, name = 'image.uint8') {
  const { data, shape } = refs.uint8(name);
  return { height: shape[0]!, width: shape[1]!, channels: shape.length === 3 ? shape[2]! : 1, data };
}

/** A layout assembled in a temp folder: `files` maps a destination path to a fixture path (relative to REAL_ARCH_DIR). */
export interface AssembledRepo {
  dir: string;
  dispose(): Promise<void>;
}

export async function assembleRepo(files: Record<string, string>): Promise<AssembledRepo> {
  const base = await mkdtemp(join(tmpdir(), 'real-arch-'));
  const dir = join(base, 'repo');
  for (const [to, from] of Object.entries(files)) {
    await mkdir(dirname(join(dir, to)), { recursive: true });
    await copyFile(join(REAL_ARCH_DIR, from), join(dir, to));
  }
  return { dir, dispose: () => rm(base, { recursive: true, force: true }) };
}

/** Every file of a fixture folder, for `assembleRepo`: {`${to}/${name}`: `${from}/${name}`}. */
export async function folderFiles(from: string, to: string, keep: (name: string) => boolean = () => true): Promise<Record<string, string>> {
  const names = (await readdir(join(REAL_ARCH_DIR, from))).filter(keep).sort();
  return Object.fromEntries(names.map((name) => [`${to}/${name}`, `${from}/${name}`]));
}

const onnxSide = (name: string) => !name.endsWith('.safetensors');

/** A pure Optimum output folder: ONNX parts, their configs, tokenizers, scheduler; no vae/, no safetensors. */
export async function optimumLayout(): Promise<Record<string, string>> {
  return {
    'model_index.json': 'repo/model_index.json',
    ...(await folderFiles('repo/scheduler', 'scheduler')),
    ...(await folderFiles('repo/tokenizer', 'tokenizer')),
    ...(await folderFiles('repo/tokenizer_2', 'tokenizer_2')),
    ...(await folderFiles('repo/text_encoder', 'text_encoder', onnxSide)),
    ...(await folderFiles('repo/text_encoder_2', 'text_encoder_2', onnxSide)),
    ...(await folderFiles('repo/unet', 'unet', onnxSide)),
    ...(await folderFiles('repo/vae_decoder', 'vae_decoder')),
    ...(await folderFiles('repo/vae_encoder', 'vae_encoder')),
  };
}
