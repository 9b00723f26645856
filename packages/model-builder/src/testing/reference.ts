/**
 * Test support: the reference tensors the fixture script
 * (tools/reference/model-builder/make_fixtures.py) wrote as safetensors,
 * and the tolerance check the parity tests share.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modular-diffusers/runtime';
import { readSafetensorsHeader } from '../safetensors/safetensors-file.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** Every tensor of a reference file as a runtime Tensor (F32 -> float32, I64 -> int64). */
export async function readReference(path: string): Promise<Map<string, Tensor>> {
  const header = await readSafetensorsHeader(path);
  const bytes = await readFile(path);
  const out = new Map<string, Tensor>();
  for (const [name, info] of header.tensors) {
    const raw = bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength);
    const copy = new Uint8Array(raw).buffer;
    if (info.dtype === 'F32') out.set(name, new Tensor('float32', new Float32Array(copy), info.shape));
    else if (info.dtype === 'I64') out.set(name, new Tensor('int64', new BigInt64Array(copy), info.shape));
    else if (info.dtype === 'U8') continue; // images; the parity tests here compare floats
    else throw new Error(`reference ${path}: unexpected dtype ${info.dtype} for ${name}`);
  }
  return out;
}

/** Largest |a - b| over the elements, and the largest |b| (the output's magnitude). */
export function maxDifference(actual: Tensor, expected: Tensor): { diff: number; magnitude: number } {
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`shape [${actual.shape}] != expected [${expected.shape}]`);
  let diff = 0;
  let magnitude = 0;
  const a = actual.data as Float32Array;
  const b = expected.data as Float32Array;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    magnitude = Math.max(magnitude, Math.abs(b[i]!));
  }
  return { diff, magnitude };
}

export function int32Ids(ids: Tensor): Tensor<'int32'> {
  return new Tensor('int32', Int32Array.from(ids.data as BigInt64Array, (v) => Number(v)), ids.shape);
}
