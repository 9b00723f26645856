/**
 * The built-graph cache: the second load skips the build; in-place weights
 * are not copied (the entry holds only graphs and a manifest); the fp16
 * variant's one float32 copy; a changed weight file rebuilds; concurrent
 * builds and an abort leave one complete entry or none, never a temp folder.
 */
import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel, defaultBuiltGraphsDir, hasBuildableWeights } from './build-model.js';
import { CONVERTED_WEIGHTS_FILE } from './graph/weight-binder.js';
import { copyFixture } from './testing/fixture-copies.js';
import { fixture } from './testing/reference.js';

const cleanups: string[] = [];
afterEach(async () => {
  for (const dir of cleanups.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(dir);
  return dir;
}

describe('buildModel and the built-graph cache', () => {
  it('builds once, then loads from the cache; in place, the entry holds no weight bytes', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const first = await buildModel({ folder: fixture('unet-sdxl'), cacheDir });
    expect(first.fromCache).toBe(false);
    expect(first.placement).toBe('in-place');
    const second = await buildModel({ folder: fixture('unet-sdxl'), cacheDir });
    expect(second.fromCache).toBe(true);
    expect(second.buildMs).toBe(0);
    expect(second.cacheEntry).toBe(first.cacheEntry);
    expect((await readdir(first.cacheEntry)).sort()).toEqual(['manifest.json', 'model.onnx']);
    const graphBytes = (await stat(first.graphs.model!)).size;
    const weightBytes = (await stat(fixture('unet-sdxl', 'diffusion_pytorch_model.safetensors'))).size;
    expect(graphBytes).toBeLessThan(weightBytes / 10);
    const model = await loadOnnxModel(second.graphs.model!, { externalDataFolder: second.externalDataFolder });
    expect(model.sizeBytes).toBe(graphBytes + weightBytes);
    await model.release();
    expect(await readdir(cacheDir)).toHaveLength(1);
  });

  it('the fp16 variant on CPU: one float32 copy of the weights, beside the graph', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const built = await buildModel({ folder: fixture('vae'), variant: 'fp16', cacheDir });
    expect(built.placement).toBe('float32-copy');
    expect(built.externalDataFolder).toBe(built.cacheEntry);
    const copy = (await stat(join(built.cacheEntry, CONVERTED_WEIGHTS_FILE))).size;
    const plain = (await stat(fixture('vae', 'diffusion_pytorch_model.safetensors'))).size;
    expect(copy).toBeGreaterThan(plain * 0.95);
    expect(copy).toBeLessThan(plain * 1.05);
    const kept = await buildModel({ folder: fixture('vae'), variant: 'fp16', cacheDir, keepHalfPrecision: true });
    expect(kept.placement).toBe('in-place');
    expect(kept.cacheEntry).not.toBe(built.cacheEntry);
  });

  it('a changed weight file gets a new entry', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const folder = await copyFixture('clip-text');
    cleanups.push(folder);
    const first = await buildModel({ folder, cacheDir });
    await utimes(join(folder, 'model.safetensors'), new Date(), new Date(Date.now() + 5000));
    const second = await buildModel({ folder, cacheDir });
    expect(second.fromCache).toBe(false);
    expect(second.cacheEntry).not.toBe(first.cacheEntry);
  });

  it('concurrent builds of one model leave one complete entry and no temp folder', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const results = await Promise.all([0, 1, 2].map(() => buildModel({ folder: fixture('clip-text-projection'), cacheDir })));
    expect(new Set(results.map((r) => r.cacheEntry)).size).toBe(1);
    expect(await readdir(cacheDir)).toHaveLength(1);
  });

  it('an aborted build leaves nothing behind', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const controller = new AbortController();
    controller.abort();
    await expect(buildModel({ folder: fixture('vae'), variant: 'fp16', cacheDir, signal: controller.signal })).rejects.toThrow();
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it('knows a buildable folder, and caches under $HF_HOME/modular-diffusers/built-graphs by default', async () => {
    expect(await hasBuildableWeights(fixture('vae'))).toBe(true);
    expect(await hasBuildableWeights(fixture('vae'), 'fp16')).toBe(true);
    expect(await hasBuildableWeights(fixture('vae'), 'bf16')).toBe(false);
    expect(await hasBuildableWeights(fixture('vae', 'export'))).toBe(false);
    const previous = process.env.HF_HOME;
    process.env.HF_HOME = '/somewhere/hf';
    try {
      expect(defaultBuiltGraphsDir()).toBe('/somewhere/hf/modular-diffusers/built-graphs');
    } finally {
      if (previous === undefined) delete process.env.HF_HOME;
      else process.env.HF_HOME = previous;
    }
  });
});
