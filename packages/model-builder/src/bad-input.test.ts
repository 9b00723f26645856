/**
 * The bad-input table: each case fails in buildModel (so before any
 * session exists) with an error that names the file and the key and says
 * what to do, and leaves the built-graph cache empty.
 */
import { mkdtemp, readdir, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildModel } from './build-model.js';
import { ModelBuildError, SafetensorsFormatError, UnsupportedConfigError, WeightMismatchError } from './errors.js';
import { copyFixture, editConfig, editSafetensorsHeader } from './testing/fixture-copies.js';

const UNET_WEIGHTS = 'diffusion_pytorch_model.safetensors';
const cleanups: string[] = [];
afterEach(async () => {
  for (const dir of cleanups.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface Case {
  readonly title: string;
  readonly fixture: string;
  readonly variant?: string;
  readonly prepare: (folder: string) => Promise<void>;
  readonly error: typeof ModelBuildError;
  readonly file: string;
  readonly key: string | null;
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    title: 'a config field the builder does not support',
    fixture: 'unet-sdxl',
    prepare: (f) => editConfig(f, (c) => { c.class_embed_type = 'timestep'; }),
    error: UnsupportedConfigError, file: 'config.json', key: 'class_embed_type', message: /class embedding is not supported.*ONNX export/,
  },
  {
    title: 'a block type the builder does not support',
    fixture: 'unet-sdxl',
    prepare: (f) => editConfig(f, (c) => { c.down_block_types = ['AttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D']; }),
    error: UnsupportedConfigError, file: 'config.json', key: 'down_block_types', message: /"AttnDownBlock2D"; supported: DownBlock2D, CrossAttnDownBlock2D/,
  },
  {
    title: 'an activation the builder does not support',
    fixture: 'clip-text',
    prepare: (f) => editConfig(f, (c) => { c.hidden_act = 'relu'; }),
    error: UnsupportedConfigError, file: 'config.json', key: 'hidden_act', message: /"relu".*supported: "quick_gelu", "gelu"/,
  },
  {
    title: 'a model class the builder does not build',
    fixture: 'vae',
    prepare: (f) => editConfig(f, (c) => { c._class_name = 'AutoencoderTiny'; }),
    error: ModelBuildError, file: 'config.json', key: '_class_name', message: /cannot build 'AutoencoderTiny'/,
  },
  {
    title: 'missing weights',
    fixture: 'vae',
    prepare: async (f) => { await rm(join(f, UNET_WEIGHTS)); await rm(join(f, 'diffusion_pytorch_model.fp16.safetensors')); },
    error: WeightMismatchError, file: '', key: null, message: /No diffusion_pytorch_model\.safetensors or model\.safetensors/,
  },
  {
    title: 'a variant the folder does not have',
    fixture: 'vae',
    variant: 'bf16',
    prepare: async () => {},
    error: WeightMismatchError, file: '', key: null, message: /drop variant 'bf16'/,
  },
  {
    title: 'a misnamed weight',
    fixture: 'unet-sdxl',
    prepare: (f) => editSafetensorsHeader(join(f, UNET_WEIGHTS), (h) => { h['conv_in.weights'] = h['conv_in.weight']!; delete h['conv_in.weight']; }),
    error: WeightMismatchError, file: UNET_WEIGHTS, key: 'conv_in.weight', message: /Missing weight 'conv_in.weight'.*is 'conv_in.weights' meant/,
  },
  {
    title: 'a weight the config does not use',
    fixture: 'clip-text',
    prepare: (f) => editSafetensorsHeader(join(f, 'model.safetensors'), (h) => {
      // Reuse the bytes of a real bias under a stray name by splitting nothing: rename a layer beyond num_hidden_layers.
      for (const key of Object.keys(h)) if (key.startsWith('text_model.encoder.layers.2.')) { h[key.replace('layers.2.', 'layers.7.')] = h[key]!; delete h[key]; }
    }),
    error: WeightMismatchError, file: 'model.safetensors', key: 'text_model.encoder.layers.2.layer_norm1.weight', message: /Missing weight/,
  },
  {
    title: 'a shape mismatch between config and weights',
    fixture: 'unet-sdxl',
    prepare: (f) => editConfig(f, (c) => { c.cross_attention_dim = 48; }),
    error: WeightMismatchError, file: UNET_WEIGHTS, key: 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight', message: /has shape \[32, 32\] but the config needs \[32, 48\]/,
  },
  {
    title: 'a truncated safetensors file',
    fixture: 'vae',
    prepare: async (f) => { const p = join(f, UNET_WEIGHTS); await truncate(p, (await stat(p)).size - 100); },
    error: SafetensorsFormatError, file: UNET_WEIGHTS, key: 'quant_conv.weight', message: /truncated, download it again/,
  },
  {
    title: 'a header that lies about a tensor\'s size',
    fixture: 'vae',
    prepare: (f) => editSafetensorsHeader(join(f, UNET_WEIGHTS), (h) => { h['decoder.conv_in.bias']!.data_offsets[1] += 4; }),
    error: SafetensorsFormatError, file: UNET_WEIGHTS, key: 'decoder.conv_in.bias', message: /the header lies about its offsets/,
  },
  {
    title: 'a header whose offsets overlap',
    fixture: 'vae',
    prepare: (f) => editSafetensorsHeader(join(f, UNET_WEIGHTS), (h) => { h['encoder.conv_norm_out.bias']!.data_offsets = [...h['encoder.conv_norm_out.weight']!.data_offsets]; }),
    error: SafetensorsFormatError, file: UNET_WEIGHTS, key: null, message: /(overlap the previous tensor's bytes|leaving a hole).*the header lies about its offsets/,
  },
];

describe('bad input is refused before any session, naming file and key, leaving the cache empty', () => {
  it.each(CASES)('$title', async (c) => {
    const folder = await copyFixture(c.fixture);
    const cacheDir = await mkdtemp(join(tmpdir(), 'mb-cache-'));
    cleanups.push(folder, cacheDir);
    await c.prepare(folder);
    const error = await buildModel({ folder, cacheDir, ...(c.variant ? { variant: c.variant } : {}) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(c.error);
    const built = error as ModelBuildError;
    expect(built.message).toMatch(c.message);
    expect(built.file ?? '').toContain(join(folder, c.file));
    expect(built.message).toContain(folder);
    if (c.key) expect(built.key).toBe(c.key);
    expect(await readdir(cacheDir)).toEqual([]);
  });
});
