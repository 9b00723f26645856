/**
 * CLIPVisionModelWithProjection (the IP-Adapter image encoder) built from
 * safetensors against transformers' forward
 * (tools/reference/adapter-fixtures/ip-adapter/clip_vision.py, a faithful
 * torch port with transformers' state-dict names; outputs in
 * fixtures/clip-vision-projection/reference.safetensors for two random
 * 32x32 images, quick_gelu, patch 8). Every output, fused and plain
 * attention, within 1e-5 of the output's largest magnitude.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import { fixture, maxDifference, readReference } from '../testing/reference.js';

const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-clip-vision-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe('CLIPVisionModelWithProjection', () => {
  it.each([true, false])('fused %s: image_embeds, last_hidden_state and every hidden state match transformers', async (fused) => {
    const built = await buildModel({ folder: fixture('clip-vision-projection'), fusedOps: fused, cacheDir });
    expect(built.className).toBe('CLIPVisionModelWithProjection');
    expect(built.placement).toBe('in-place');
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    const reference = await readReference(fixture('clip-vision-projection', 'reference.safetensors'));
    const out = await model.run({ pixel_values: reference.get('input.pixel_values')! });
    const names = [...reference.keys()].filter((k) => k.startsWith('output.')).map((k) => k.slice('output.'.length));
    // image_embeds, last_hidden_state, and hidden_states.0..2 (pre_layrnorm output, then each of the 2 layers)
    expect(names.sort()).toEqual(['hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'image_embeds', 'last_hidden_state']);
    for (const output of names) {
      const { diff, magnitude } = maxDifference(out[output]!, reference.get(`output.${output}`)!);
      expect(magnitude, output).toBeGreaterThan(0.1);
      expect(diff, output).toBeLessThanOrEqual(1e-5 * magnitude);
    }
    await model.release();
  });
});
