import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { ExecutionProviderUnavailableError, probeProvider } from './execution-provider.js';
import { loadOnnxModel, OnnxModelLoadError } from './onnx-model.js';

// torch.onnx.export graphs of diffusers' own models (packages/sdxl/fixtures/real-arch, made by
// tools/reference/diffusers-fixtures): symbolic and fixed dims, int32/int64/float16 inputs, a scalar
// input, and external data files.
const REAL_ARCH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sdxl', 'fixtures', 'real-arch');
const MODELS = [
  'repo/text_encoder/model.onnx',
  'repo/text_encoder_2/model.onnx',
  'repo/unet/model.onnx',
  'repo/vae_decoder/model.onnx',
  'repo/vae_encoder/model.onnx',
  'variants/fp16/unet/model.onnx',
  'variants/vae-encoder-latent-sample/model.onnx',
];

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('loadOnnxModel with deferSession', () => {
  it.each(MODELS)('declares what the session declares, read from the file: %s', async (file) => {
    const deferred = await loadOnnxModel(join(REAL_ARCH, file), { deferSession: true });
    const eager = await loadOnnxModel(join(REAL_ARCH, file));
    try {
      expect(deferred.sessionCreations).toBe(0);
      expect(deferred.isResident).toBe(false);
      expect(deferred.inputs).toEqual(eager.inputs);
      expect(deferred.outputs).toEqual(eager.outputs);
      expect(deferred.sizeBytes).toBe(eager.sizeBytes);
    } finally {
      await Promise.all([deferred.release(), eager.release()]);
    }
  });

  it('creates the session at the first run, once, and runs like an eager load', async () => {
    const path = join(REAL_ARCH, 'repo/text_encoder/model.onnx');
    const deferred = await loadOnnxModel(path, { deferSession: true });
    const eager = await loadOnnxModel(path);
    try {
      const ids = new Tensor('int32', Int32Array.from({ length: 77 }, (_, i) => (i < 3 ? 353 + i : 572)), [1, 77]);
      const a = await deferred.run({ input_ids: ids }, { outputs: ['pooler_output'] });
      const b = await eager.run({ input_ids: ids }, { outputs: ['pooler_output'] });
      expect(Array.from(a.pooler_output!.data as Float32Array)).toEqual(Array.from(b.pooler_output!.data as Float32Array));
      await deferred.run({ input_ids: ids }, { outputs: ['pooler_output'] });
      expect([deferred.sessionCreations, deferred.isResident]).toEqual([1, true]);
    } finally {
      await Promise.all([deferred.release(), eager.release()]);
    }
  });

  it('still fails at load when the external data file is missing, naming it', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'deferred-'));
    await copyFile(join(REAL_ARCH, 'repo/text_encoder_2/model.onnx'), join(scratch, 'model.onnx'));
    const load = loadOnnxModel(join(scratch, 'model.onnx'), { deferSession: true });
    await expect(load).rejects.toThrow(OnnxModelLoadError);
    await expect(loadOnnxModel(join(scratch, 'model.onnx'), { deferSession: true })).rejects.toThrow(/'model\.onnx_data', which is missing/);
  });

  it.runIf(!probeProvider('cuda').available)('fails at load, not at the first run, when the named provider is not installed', async () => {
    await expect(loadOnnxModel(join(REAL_ARCH, MODELS[0]!), { deferSession: true, device: 'cuda' })).rejects.toThrow(ExecutionProviderUnavailableError);
  });
});
