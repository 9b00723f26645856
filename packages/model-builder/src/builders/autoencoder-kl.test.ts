/**
 * AutoencoderKL built from safetensors against diffusers' own
 * `encode(x).latent_dist.parameters` and `decode(z).sample`
 * (tools/reference/model-builder/make_fixtures.py), float32 and fp16
 * variant (reference on the fp16-rounded weights in float32). Tolerance:
 * 1e-5 of the output's magnitude.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import { fixture, maxDifference, readReference } from '../testing/reference.js';

const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-vae-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe('AutoencoderKL', () => {
  it.each([
    [null, true],
    [null, false],
    ['fp16', true],
  ] as const)('variant %s fused %s: encoder and decoder within 1e-5 of their magnitude', async (variant, fused) => {
    const built = await buildModel({ folder: fixture('vae'), variant, fusedOps: fused, cacheDir });
    expect(Object.keys(built.graphs).sort()).toEqual(['decoder', 'encoder']);
    const reference = await readReference(fixture('vae', variant ? 'reference.fp16.safetensors' : 'reference.safetensors'));
    const encoder = await loadOnnxModel(built.graphs.encoder!, { externalDataFolder: built.externalDataFolder });
    const decoder = await loadOnnxModel(built.graphs.decoder!, { externalDataFolder: built.externalDataFolder });
    const params = (await encoder.run({ sample: reference.get('input.sample')! })).latent_parameters!;
    const decoded = (await decoder.run({ latent_sample: reference.get('input.latent_sample')! })).sample!;
    for (const [actual, key] of [[params, 'output.latent_parameters'], [decoded, 'output.sample']] as const) {
      const { diff, magnitude } = maxDifference(actual, reference.get(key)!);
      expect(magnitude, key).toBeGreaterThan(0.1);
      expect(diff, key).toBeLessThanOrEqual(1e-5 * magnitude);
    }
    await encoder.release();
    await decoder.release();
  });
});
