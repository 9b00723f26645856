/**
 * The 'linked' placement: weights from two folders (a component and an adapter file). Files
 * that can be read as stored are hard-linked into the built-graph folder; the others'
 * half-precision tensors are converted into weights.f32.bin there.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readSafetensorsHeader } from '../safetensors/safetensors-file.js';
import { fixture } from '../testing/reference.js';
import { float16ToFloat32Into } from './half-precision.js';
import { CONVERTED_WEIGHTS_FILE, WeightBinder } from './weight-binder.js';

const out = await mkdtemp(join(tmpdir(), 'weight-binder-'));
afterAll(() => rm(out, { recursive: true, force: true }));

async function headerOf(path: string) {
  const header = await readSafetensorsHeader(path);
  return { header, file: { path, dtypes: new Set([...header.tensors.values()].map((t) => t.dtype)) } };
}

it('links the float32 file of one folder and converts the fp16 file of another, all read from the built-graph folder', async () => {
  const plain = await headerOf(fixture('clip-text', 'model.safetensors'));
  const half = await headerOf(fixture('clip-text-projection', 'model.fp16.safetensors'));
  const binder = await WeightBinder.plan([plain.file, half.file], false);
  expect(binder.placement).toBe('linked');
  expect(binder.externalDataFolder).toBeNull();

  const key = 'text_model.final_layer_norm.weight';
  const a = plain.header.tensors.get(key)!;
  const b = half.header.tensors.get(key)!;
  const boundA = binder.bind({ key, info: a, file: plain.header });
  const boundB = binder.bind({ key, info: b, file: half.header });
  expect(boundA).toEqual({ dtype: 'float32', location: 'linked-0-model.safetensors', offset: a.fileOffset, length: a.byteLength });
  expect(boundB).toMatchObject({ dtype: 'float32', location: CONVERTED_WEIGHTS_FILE, length: b.byteLength * 2 });

  await binder.writeConverted(out);
  const [linked, source] = [await stat(join(out, boundA.location)), await stat(plain.file.path)];
  expect(linked.size).toBe(source.size);
  if (linked.dev === source.dev) expect(linked.ino).toBe(source.ino);
  const halves = new Uint16Array(new Uint8Array((await readFile(half.file.path)).subarray(b.fileOffset, b.fileOffset + b.byteLength)).buffer);
  const expected = new Float32Array(halves.length);
  float16ToFloat32Into(halves, expected);
  const converted = (await readFile(join(out, CONVERTED_WEIGHTS_FILE))).subarray(boundB.offset, boundB.offset + boundB.length);
  expect(new Float32Array(new Uint8Array(converted).buffer)).toEqual(expected);
});

it('keeps half precision as stored when asked: both files linked, nothing converted', async () => {
  const plain = await headerOf(fixture('clip-text', 'model.safetensors'));
  const half = await headerOf(fixture('clip-text-projection', 'model.fp16.safetensors'));
  const binder = await WeightBinder.plan([plain.file, half.file], true);
  expect(binder.placement).toBe('linked');
  const key = 'text_model.final_layer_norm.weight';
  expect(binder.bind({ key, info: half.header.tensors.get(key)!, file: half.header })).toMatchObject({ dtype: 'float16', location: 'linked-1-model.fp16.safetensors' });
  expect(binder.convertedBytes).toBe(0);
});
