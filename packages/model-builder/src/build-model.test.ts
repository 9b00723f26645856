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
import { loadOnnxModel, Tensor } from '@modular-diffusers/runtime';
import { buildModel, defaultBuiltGraphsDir, hasBuildableWeights } from './build-model.js';
import { CONVERTED_WEIGHTS_FILE } from './graph/weight-binder.js';
import { copyFixture } from './testing/fixture-copies.js';
import { fixture, readReference } from './testing/reference.js';

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

describe('weightOverride (how a fused LoRA reaches the graph)', () => {
  it('stores the computed weights in the graph, keeps the rest in place, and keys the cache by its id', async () => {
    const cacheDir = await tempDir('mb-cache-');
    const seen: Array<[string, number]> = [];
    const built = await buildModel({
      folder: fixture('vae'),
      variant: 'fp16',
      keepHalfPrecision: true,
      cacheDir,
      weightOverride: {
        id: 'zero-conv-out',
        keys: new Set(['decoder.conv_out.weight']),
        compute: (key, base) => {
          seen.push([key, base.length]);
          return new Float32Array(base.length);
        },
      },
    });
    expect(seen).toEqual([['decoder.conv_out.weight', 3 * 16 * 3 * 3]]);
    expect(built.placement).toBe('in-place');
    const decoder = await loadOnnxModel(built.graphs.decoder!, { externalDataFolder: built.externalDataFolder });
    const out = (await decoder.run({ latent_sample: Tensor.float32(new Array(4 * 4 * 4).fill(0.3), [1, 4, 4, 4]) })).sample!;
    // With conv_out's kernel zeroed, every pixel is conv_out's bias (the fp16 file's: within fp16 rounding of the float32 one).
    expect(out.shape).toEqual([1, 3, 8, 8]);
    const plain = await readReference(fixture('vae', 'diffusion_pytorch_model.safetensors'));
    const b = plain.get('decoder.conv_out.bias')!.data as Float32Array;
    const plane = 8 * 8;
    for (let c = 0; c < 3; c++) {
      for (const i of [0, 17, plane - 1]) expect(out.data[c * plane + i]).toBeCloseTo(b[c]!, 3);
    }
    await decoder.release();
    const plainBuilt = await buildModel({ folder: fixture('vae'), variant: 'fp16', keepHalfPrecision: true, cacheDir });
    expect(plainBuilt.cacheEntry).not.toBe(built.cacheEntry);
  });

  it('refuses an override naming a weight the graph does not use', async () => {
    const cacheDir = await tempDir('mb-cache-');
    await expect(
      buildModel({ folder: fixture('vae'), cacheDir, weightOverride: { id: 'x', keys: new Set(['decoder.lora_up.weight']), compute: (_k, b) => b } }),
    ).rejects.toThrow(/names 'decoder.lora_up.weight', which the AutoencoderKL graph does not use/);
    expect(await readdir(cacheDir)).toEqual([]);
  });
});
