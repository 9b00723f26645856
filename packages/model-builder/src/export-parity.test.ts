/**
 * A graph built from safetensors against an Optimum-style ONNX export of the
 * same weights (torch.onnx.export with Optimum's input/output names, made by
 * the fixture script): same names, same outputs within 1e-5 of their magnitude.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, type Tensor } from '@modular-diffusers/runtime';
import { buildModel } from './build-model.js';
import { fixture, int32Ids, maxDifference, readReference } from './testing/reference.js';

const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-export-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

const CASES = [
  { name: 'clip-text', graph: 'model', exported: 'export/model.onnx' },
  { name: 'clip-text-projection', graph: 'model', exported: 'export/model.onnx' },
  { name: 'unet-sdxl', graph: 'model', exported: 'export/model.onnx' },
  { name: 'unet-conv', graph: 'model', exported: 'export/model.onnx' },
  { name: 'vae', graph: 'encoder', exported: 'export/vae_encoder/model.onnx' },
  { name: 'vae', graph: 'decoder', exported: 'export/vae_decoder/model.onnx' },
] as const;

describe('built graph vs Optimum-style export', () => {
  it.each(CASES)('$name $graph: same inputs and outputs, values within 1e-5', async ({ name, graph, exported }) => {
    const built = await buildModel({ folder: fixture(name), cacheDir });
    const mine = await loadOnnxModel(built.graphs[graph]!, { externalDataFolder: built.externalDataFolder });
    const theirs = await loadOnnxModel(fixture(name, exported));
    expect([...mine.inputNames].sort()).toEqual([...theirs.inputNames].sort());
    expect([...mine.outputNames].sort()).toEqual([...theirs.outputNames].sort());
    const reference = await readReference(fixture(name, 'reference.safetensors'));
    const feeds: Record<string, Tensor> = {};
    for (const input of theirs.inputNames) {
      const value = reference.get(`input.${input}`)!;
      feeds[input] = input === 'input_ids' ? int32Ids(value) : value;
    }
    const [a, b] = [await mine.run(feeds), await theirs.run(feeds)];
    for (const output of theirs.outputNames) {
      const { diff, magnitude } = maxDifference(a[output]!, b[output]!);
      expect(diff, output).toBeLessThanOrEqual(1e-5 * magnitude);
    }
    await mine.release();
    await theirs.release();
  });
});
