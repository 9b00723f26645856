/**
 * CLIP text encoders built from safetensors against transformers' CLIP
 * forward (tools/reference/model-builder/clip_text.py, a faithful torch
 * copy; outputs in fixtures/<case>/reference*.safetensors): every output,
 * fused and plain attention, float32 weights and the fp16 variant.
 * Tolerance: 1e-5 of the output's largest magnitude. The fp16 reference ran
 * diffusers' arithmetic in float32 on the fp16-rounded weights, which is what
 * the builder runs on CPU, so the same tolerance holds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import { fixture, int32Ids, maxDifference, readReference } from '../testing/reference.js';

const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-clip-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe.each([
  ['clip-text', 'pooler_output'],
  ['clip-text-projection', 'text_embeds'],
])('%s', (name, pooled) => {
  it.each([
    [null, true],
    [null, false],
    ['fp16', true],
  ] as const)('variant %s, fused %s: every output within 1e-5 of its magnitude', async (variant, fused) => {
    const built = await buildModel({ folder: fixture(name), variant, fusedOps: fused, cacheDir });
    expect(built.placement).toBe(variant ? 'float32-copy' : 'in-place');
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    const reference = await readReference(fixture(name, variant ? 'reference.fp16.safetensors' : 'reference.safetensors'));
    const out = await model.run({ input_ids: int32Ids(reference.get('input.input_ids')!) });
    const names = [...reference.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice('output.'.length));
    expect(names).toContain(pooled);
    expect(names.length).toBe(2 + 4);
    for (const output of names) {
      const { diff, magnitude } = maxDifference(out[output]!, reference.get(`output.${output}`)!);
      expect(diff, output).toBeLessThanOrEqual(1e-5 * magnitude);
    }
    await model.release();
  });
});

describe('fp16 weights kept as they are (the cuda/webgpu path), run here on CPU', () => {
  it('reads the fp16 tensors in place, casts them in the graph, and gives the fp16 reference', async () => {
    const built = await buildModel({ folder: fixture('clip-text-projection'), variant: 'fp16', keepHalfPrecision: true, cacheDir });
    expect(built.placement).toBe('in-place');
    expect(built.externalDataFolder).toBe(fixture('clip-text-projection').replace(/\/$/, ''));
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    const reference = await readReference(fixture('clip-text-projection', 'reference.fp16.safetensors'));
    const out = await model.run({ input_ids: int32Ids(reference.get('input.input_ids')!) });
    const { diff, magnitude } = maxDifference(out.text_embeds!, reference.get('output.text_embeds')!);
    expect(diff).toBeLessThanOrEqual(1e-5 * magnitude);
    await model.release();
  });
});
