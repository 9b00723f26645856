import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModularPipeline, ModularPipelineBlocks } from '@modular-diffusers/core';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildModularConfig, getRemoteCodeLoader, installHub } from '@modular-diffusers/hub';
import { installSandbox } from '../install-sandbox.js';
import { RemoteBlocks, RemoteModularPipeline, sandboxRemoteCodeLoader } from './index.js';
import { TOY_SCALER_ACCESS, ToyScaler, toyPluginBundle } from './remote-test-kit.test-helpers.js';

let dir: string;
let repo: string;
const env = {};

beforeAll(async () => {
  installHub();
  installSandbox();
  dir = await mkdtemp(join(tmpdir(), 'remote-loader-'));
  repo = join(dir, 'toy-plugin');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(repo);
  const bundle = await toyPluginBundle();
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  await writeFile(join(repo, 'block.js'), bundle);
  const config = buildModularConfig({ className: 'ToyRemoteBlocks', bundle: { file: 'block.js', sha256, exportName: 'ToyRemoteBlocks' } });
  await writeFile(join(repo, 'modular_config.json'), JSON.stringify(config, null, 2));
  process.env.MODULAR_SANDBOX_CACHE = join(dir, 'sandbox-cache');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the sandbox RemoteCodeLoader behind fromPretrained', () => {
  test('installSandbox() installs it', () => {
    expect(getRemoteCodeLoader()).toBe(sandboxRemoteCodeLoader);
  });

  test('ModularPipeline.fromPretrained(folder, { trustRemoteCode: true }) gives a pipeline whose blocks run in the sandbox', async () => {
    const pipeline = (await ModularPipeline.fromPretrained(repo, { trustRemoteCode: true, cacheDir: join(dir, 'hf'), env })) as RemoteModularPipeline &
      ((inputs: Record<string, unknown>) => Promise<any>);
    try {
      expect(pipeline).toBeInstanceOf(RemoteModularPipeline);
      expect(pipeline.remoteSource).toMatchObject({ repo, exportName: 'ToyRemoteBlocks', filename: `hf://${repo}/block.js` });
      expect(pipeline.blocks.className).toBe('ToyRemoteBlocks');
      pipeline.updateComponents({ scaler: new ToyScaler(1) });
      // ToyScaler has no built-in allow-list entry: the sandbox sees it without methods.
      await expect(pipeline({ latents: new Tensor('float32', new Float32Array([1]), [1]), output: 'scaled' })).rejects.toThrow(/scale is not a function/);
    } finally {
      await pipeline.dispose();
    }
    const blocks = await ModularPipelineBlocks.fromPretrained(repo, { trustRemoteCode: true, cacheDir: join(dir, 'hf'), env });
    expect(blocks).toBeInstanceOf(RemoteBlocks);
    const fromBlocks = (blocks as RemoteBlocks).initPipeline({ componentAccess: TOY_SCALER_ACCESS });
    try {
      fromBlocks.updateComponents({ scaler: new ToyScaler(1) });
      const out = await fromBlocks({ latents: new Tensor('float32', new Float32Array([1]), [1]), output: 'scaled' });
      // Remote code types no outputs: checked to be a tensor before it is read.
      if (!(out instanceof Tensor)) throw new Error(`expected a tensor, got ${String(out)}`);
      expect(Array.from(out.data as Float32Array)).toEqual([1 * 2 + 1 + 3 * 1.5]);
    } finally {
      await fromBlocks.dispose();
    }
  });
});
