/**
 * UNet2DConditionModel built from safetensors against diffusers' own
 * forward (tools/reference/model-builder/make_fixtures.py): an SDXL-shaped
 * UNet (text_time added embeddings, linear projections, per-block
 * transformer depth and heads) and an SD-1.5-shaped one (conv projections,
 * upcast_attention, one head count). Tolerance: 1e-5 of the output's
 * magnitude, also for the fp16 variant (its reference ran on the
 * fp16-rounded weights in float32, as the builder does on CPU).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, Tensor } from '@modular-diffusers/runtime';
import { buildModel } from '../build-model.js';
import type { CrossAttentionHook } from './unet-parts.js';
import { fixture, maxDifference, readReference } from '../testing/reference.js';

const cacheDir = await mkdtemp(join(tmpdir(), 'built-graphs-unet-'));
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

async function parity(name: string, variant: string | null, fused: boolean): Promise<{ diff: number; magnitude: number }> {
  const built = await buildModel({ folder: fixture(name), variant, fusedOps: fused, cacheDir });
  const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
  const reference = await readReference(fixture(name, variant ? 'reference.fp16.safetensors' : 'reference.safetensors'));
  const feeds: Record<string, Tensor> = {};
  for (const [key, value] of reference) if (key.startsWith('input.')) feeds[key.slice(6)] = value;
  const out = await model.run(feeds);
  await model.release();
  return maxDifference(out.out_sample!, reference.get('output.out_sample')!);
}

describe('UNet2DConditionModel', () => {
  it.each([
    ['unet-sdxl', null, true],
    ['unet-sdxl', null, false],
    ['unet-sdxl', 'fp16', true],
    ['unet-conv', null, true],
    ['unet-conv', 'fp16', false],
  ] as const)('%s variant %s fused %s: out_sample within 1e-5 of its magnitude', async (name, variant, fused) => {
    const { diff, magnitude } = await parity(name, variant, fused);
    expect(magnitude).toBeGreaterThan(0.5);
    expect(diff).toBeLessThanOrEqual(1e-5 * magnitude);
  });
});

describe('UNet2DConditionModel with ControlNet residual inputs', () => {
  it('adds down and mid residuals where diffusers adds them (within 1e-5)', async () => {
    const built = await buildModel({ folder: fixture('unet-sdxl'), cacheDir, unet: { controlNetResiduals: true } });
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    const reference = await readReference(fixture('unet-sdxl', 'reference.controlnet.safetensors'));
    const feeds: Record<string, Tensor> = {};
    for (const [key, value] of reference) if (key.startsWith('input.')) feeds[key.slice(6)] = value;
    expect(model.inputNames.filter((n) => n.startsWith('down_block_additional_residual_'))).toHaveLength(9);
    expect(Object.keys(feeds).sort()).toEqual([...model.inputNames].sort());
    const out = await model.run(feeds);
    const { diff, magnitude } = maxDifference(out.out_sample!, reference.get('output.out_sample')!);
    expect(diff).toBeLessThanOrEqual(1e-5 * magnitude);
    // Without residuals (zeros) it is the plain UNet.
    const zeros: Record<string, Tensor> = { ...feeds };
    for (const name of model.inputNames) if (name.includes('additional_residual')) zeros[name] = Tensor.zeros('float32', feeds[name]!.shape);
    const plainBuilt = await buildModel({ folder: fixture('unet-sdxl'), cacheDir });
    expect(plainBuilt.cacheEntry).not.toBe(built.cacheEntry);
    const plain = await loadOnnxModel(plainBuilt.graphs.model!, { externalDataFolder: plainBuilt.externalDataFolder });
    const plainFeeds = Object.fromEntries(plain.inputNames.map((n) => [n, feeds[n]!]));
    const a = (await model.run(zeros)).out_sample!;
    const b = (await plain.run(plainFeeds)).out_sample!;
    expect(maxDifference(a, b).diff).toBeLessThanOrEqual(1e-6 * maxDifference(a, b).magnitude);
    await model.release();
    await plain.release();
  });
});

describe('UNet cross-attention hook (the IP-Adapter extension point)', () => {
  it('is called at every attn2 with its key prefix; what it returns is added before to_out', async () => {
    const sites: string[] = [];
    const hook: CrossAttentionHook = (site) => {
      sites.push(site.prefix);
      // A stand-in for an image K/V attention: the image embedding, tiled to the attention width, broadcast over tokens.
      return site.g.op('Tile', ['image_embeds', site.g.constInt64([1, 1, site.dim / 8])]);
    };
    const built = await buildModel({
      folder: fixture('unet-sdxl'),
      cacheDir,
      unet: { crossAttentionHook: hook, declareInputs: (g, batch) => void g.input('image_embeds', 'float32', [batch, 1, 8]) },
      extensionId: 'test-zero-hook',
    });
    expect(sites).toEqual([
      'down_blocks.1.attentions.0.transformer_blocks.0.attn2', 'down_blocks.1.attentions.1.transformer_blocks.0.attn2',
      'down_blocks.2.attentions.0.transformer_blocks.0.attn2', 'down_blocks.2.attentions.0.transformer_blocks.1.attn2',
      'down_blocks.2.attentions.1.transformer_blocks.0.attn2', 'down_blocks.2.attentions.1.transformer_blocks.1.attn2',
      'mid_block.attentions.0.transformer_blocks.0.attn2', 'mid_block.attentions.0.transformer_blocks.1.attn2',
      ...[0, 1, 2].flatMap((l) => [0, 1].map((b) => `up_blocks.0.attentions.${l}.transformer_blocks.${b}.attn2`)),
      ...[0, 1, 2].map((l) => `up_blocks.1.attentions.${l}.transformer_blocks.0.attn2`),
    ]);
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    expect(model.inputNames).toContain('image_embeds');
    const reference = await readReference(fixture('unet-sdxl', 'reference.safetensors'));
    const feeds: Record<string, Tensor> = { image_embeds: Tensor.zeros('float32', [2, 1, 8]) };
    for (const [key, value] of reference) if (key.startsWith('input.')) feeds[key.slice(6)] = value;
    // Zero image embeddings add nothing: the output stays diffusers' plain UNet output; others change it.
    const { diff, magnitude } = maxDifference((await model.run(feeds)).out_sample!, reference.get('output.out_sample')!);
    expect(diff).toBeLessThanOrEqual(1e-5 * magnitude);
    const changed = await model.run({ ...feeds, image_embeds: Tensor.float32(new Array(16).fill(0.5), [2, 1, 8]) });
    expect(maxDifference(changed.out_sample!, reference.get('output.out_sample')!).diff).toBeGreaterThan(1e-2);
    await model.release();
    await expect(buildModel({ folder: fixture('unet-sdxl'), cacheDir, unet: { crossAttentionHook: hook } })).rejects.toThrow(/needs an extensionId/);
  });
});
