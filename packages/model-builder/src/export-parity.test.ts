/**
 * A graph built from safetensors against an Optimum-style ONNX export of the
 * same weights (torch.onnx.export with Optimum's input/output names, made by
 * the fixture script): same names, same outputs within 1e-5 of their magnitude.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, Tensor } from '@modular-diffusers/runtime';
import { buildModel } from './build-model.js';
import { FIXTURES, fixture, int32Ids, maxDifference, readReference } from './testing/reference.js';

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

// The SDXL real-architecture fixture repo (packages/sdxl/fixtures/real-arch, made by
// tools/reference/diffusers-fixtures) ships Optimum-named exports beside its diffusers weights.
const REAL_ARCH = join(FIXTURES, '..', '..', 'sdxl', 'fixtures', 'real-arch');

describe('built graph vs the real-architecture repo\'s exports (stabilityai layout)', () => {
  it.each([
    { folder: 'unet', graph: 'model', exported: 'unet/model.onnx', feeds: { sample: 'unet.sample', encoder_hidden_states: 'unet.encoder_hidden_states', text_embeds: 'unet.text_embeds', time_ids: 'unet.time_ids' } },
    { folder: 'vae', graph: 'encoder', exported: 'vae_encoder/model.onnx', feeds: { sample: 'vae.encode.sample' } },
    { folder: 'vae', graph: 'decoder', exported: 'vae_decoder/model.onnx', feeds: { latent_sample: 'vae.decode.latent_sample' } },
    { folder: 'text_encoder', graph: 'model', exported: 'text_encoder/model.onnx', feeds: { input_ids: 'clip.tokenizer.input_ids' } },
    { folder: 'text_encoder_2', graph: 'model', exported: 'text_encoder_2/model.onnx', feeds: { input_ids: 'clip.tokenizer_2.input_ids' } },
  ])('$folder $graph: same outputs within 1e-5', async ({ folder, graph, exported, feeds: names }) => {
    const built = await buildModel({ folder: join(REAL_ARCH, 'repo', folder), cacheDir });
    const mine = await loadOnnxModel(built.graphs[graph]!, { externalDataFolder: built.externalDataFolder });
    const theirs = await loadOnnxModel(join(REAL_ARCH, 'repo', exported));
    const reference = await readReference(join(REAL_ARCH, 'references', 'references.safetensors'));
    const feeds: Record<string, Tensor> = {};
    for (const [input, key] of Object.entries(names)) feeds[input] = input === 'input_ids' ? int32Ids(reference.get(key)!) : reference.get(key)!;
    const mineFeeds = { ...feeds };
    const theirFeeds = { ...feeds };
    if (folder === 'unet') {
      // The export takes Optimum's int64 timestep per row; the built graph a float one.
      mineFeeds.timestep = Tensor.float32([751, 751]);
      theirFeeds.timestep = new Tensor('int64', BigInt64Array.from([751n, 751n]), [2]);
    }
    const [a, b] = [await mine.run(mineFeeds), await theirs.run(theirFeeds)];
    const shared = theirs.outputNames.filter((n) => mine.output(n));
    expect(shared.length).toBeGreaterThan(0);
    for (const output of shared) {
      const { diff, magnitude } = maxDifference(a[output]!, b[output]!);
      expect(diff, output).toBeLessThanOrEqual(1e-5 * magnitude);
    }
    await mine.release();
    await theirs.release();
  });
});
