/**
 * bf16 checkpoints: widening is exact (bf16 is a float32's top 16 bits), so
 * a graph built from a bf16 file must give bit-for-bit what a graph built
 * from a float32 file holding the same (widened) values gives.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import { convertSafetensors, copyFixture } from '../testing/fixture-copies.js';
import { fixture, int32Ids, readReference } from '../testing/reference.js';
import { bfloat16ToFloat32Into } from './half-precision.js';

const cleanups: string[] = [];
afterAll(async () => {
  for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
});

/** Round-to-nearest-even float32 -> bf16 bits. */
function toBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  return Uint16Array.from(bits, (b) => (b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
}

describe('bf16 weights', () => {
  it('widen exactly', () => {
    const out = new Float32Array(3);
    bfloat16ToFloat32Into(Uint16Array.from([0x3f80, 0xc040, 0x3e20]), out);
    expect(Array.from(out)).toEqual([1, -3, 0.15625]);
  });

  it('a bf16 variant builds (one float32 copy) and runs exactly like float32 weights of the same values', async () => {
    const folder = await copyFixture('clip-text');
    cleanups.push(folder);
    const plain = join(folder, 'model.safetensors');
    await convertSafetensors(plain, join(folder, 'model.bf16.safetensors'), 'BF16', (v) => new Uint8Array(toBfloat16(v).buffer));
    await convertSafetensors(plain, join(folder, 'model.bf16widened.safetensors'), 'F32', (v) => {
      const widened = new Float32Array(v.length);
      bfloat16ToFloat32Into(toBfloat16(v), widened);
      return new Uint8Array(widened.buffer);
    });
    const cacheDir = join(folder, 'cache');
    const half = await buildModel({ folder, variant: 'bf16', cacheDir });
    const wide = await buildModel({ folder, variant: 'bf16widened', cacheDir });
    expect(half.placement).toBe('float32-copy');
    expect(wide.placement).toBe('in-place');
    const reference = await readReference(fixture('clip-text', 'reference.safetensors'));
    const feeds = { input_ids: int32Ids(reference.get('input.input_ids')!) };
    const [a, b] = await Promise.all([half, wide].map(async (built) => {
      const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
      const out = await model.run(feeds);
      await model.release();
      return out;
    }));
    expect(Array.from(a!.last_hidden_state!.data as Float32Array)).toEqual(Array.from(b!.last_hidden_state!.data as Float32Array));
    // And bf16 rounding moved the output off the float32 model's, so the comparison above is not vacuous.
    const exact = reference.get('output.last_hidden_state')!.data as Float32Array;
    expect((a!.last_hidden_state!.data as Float32Array).some((v, i) => Math.abs(v - exact[i]!) > 1e-4)).toBe(true);
  });
});
