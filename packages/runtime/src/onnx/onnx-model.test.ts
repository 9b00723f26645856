import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { GraphBuilder } from './builder/graph-builder.js';
import { writeOnnxModel } from './builder/write-onnx-model.js';
import { ExecutionProviderUnavailableError, probeProvider } from './execution-provider.js';
import { loadOnnxModel, OnnxModelLoadError, OnnxRunError } from './onnx-model.js';
import { OnnxTensorTypeError } from './tensor-conversion.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onnx-model-'));
  // scaled = x · 3 broadcast to [batch, 256] (float), next = ids + 1 (int64): exercises both conversions.
  for (const [name, precision] of [['fp32', 'float32'], ['fp16', 'float16']] as const) {
    const g = new GraphBuilder('model', { precision });
    const x = g.input('x', 'float32', ['batch', 1]);
    const ids = g.input('ids', 'int64', ['batch']);
    g.output('scaled', g.op('Mul', [x, g.constFloat(new Float32Array(256).fill(3), [1, 256])]), 'float32', ['batch', 256]);
    g.output('next', g.op('Add', [ids, g.constInt64([1], [])]), 'int64', ['batch']);
    await writeOnnxModel(join(dir, name, precision === 'float16' ? 'model.fp16.onnx' : 'model.onnx'), g, { externalData: true });
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadOnnxModel', () => {
  it('reads names, dtypes and dims from the session and counts external data in sizeBytes', async () => {
    const model = await loadOnnxModel(join(dir, 'fp32', 'model.onnx'));
    expect(model.provider).toBe('cpu');
    expect(model.inputNames).toEqual(['x', 'ids']);
    expect(model.outputNames).toEqual(['scaled', 'next']);
    expect(model.inputs[0]).toEqual({ name: 'x', dtype: 'float32', dims: ['batch', 1] });
    expect(model.outputs[1]).toEqual({ name: 'next', dtype: 'int64', dims: ['batch'] });
    const { size: modelSize } = await stat(join(dir, 'fp32', 'model.onnx'));
    expect(model.sizeBytes).toBe(modelSize + 256 * 4); // the [1, 256] float32 weight lives in model.onnx_data
    await model.release();
  });

  it('converts float32 feeds to a float16 model and int32 feeds to int64, and float16 outputs back', async () => {
    const model = await loadOnnxModel(join(dir, 'fp16', 'model.fp16.onnx'));
    expect(model.inputs[0].dtype).toBe('float16');
    const out = await model.run({ x: Tensor.float32([0.5, -2], [2, 1]), ids: new Tensor('int32', Int32Array.of(7, 41), [2]) });
    expect(out.scaled.dtype).toBe('float32');
    expect(out.scaled.shape).toEqual([2, 256]);
    expect([out.scaled.data[0], out.scaled.data[256]]).toEqual([1.5, -6]); // exact in half precision
    expect(out.next).toEqual(new Tensor('int64', BigInt64Array.of(8n, 42n), [2]));
    const half = await model.run({ x: Tensor.float32([1], [1, 1]), ids: new Tensor('int64', BigInt64Array.of(0n), [1]) }, { keepFloat16: true, outputs: ['scaled'] });
    expect(Object.keys(half)).toEqual(['scaled']);
    expect(half.scaled.dtype).toBe('float16');
    expect(half.scaled.data[0]).toBe(0x4200); // 3.0 in half bits
    await model.release();
  });

  it('gives typed errors for missing, unexpected, mis-shaped and mis-typed inputs, unknown outputs and use after release', async () => {
    const model = await loadOnnxModel(join(dir, 'fp32', 'model.onnx'));
    const ids = new Tensor('int64', BigInt64Array.of(1n), [1]);
    await expect(model.run({ x: Tensor.float32([1], [1, 1]) })).rejects.toThrow(/Missing input 'ids'.*int64 \[batch\]/);
    await expect(model.run({ x: Tensor.float32([1], [1, 1]), ids, extra: ids })).rejects.toThrow(/Unexpected input 'extra'/);
    await expect(model.run({ x: Tensor.float32([1, 2], [1, 2]), ids })).rejects.toThrow(/expects float32 \[batch, 1\] but got \[1, 2\]/);
    await expect(model.run({ x: new Tensor('int32', Int32Array.of(1), [1, 1]), ids })).rejects.toThrow(OnnxTensorTypeError);
    await expect(model.run({ x: Tensor.float32([1], [1, 1]), ids }, { outputs: ['nope'] })).rejects.toThrow(/Unknown output 'nope'/);
    await model.release();
    await model.release();
    await expect(model.run({ x: Tensor.float32([1], [1, 1]), ids })).rejects.toThrow(OnnxRunError);
  });

  it('reports a missing file or side file clearly', async () => {
    await expect(loadOnnxModel(join(dir, 'nope', 'model.onnx'))).rejects.toThrow(OnnxModelLoadError);
    const g = new GraphBuilder('lost');
    g.output('y', g.constFloat(new Float32Array(1024)), 'float32', [1024]);
    const [path, dataPath] = await writeOnnxModel(join(dir, 'lost', 'model.onnx'), g, { externalData: true });
    await rm(dataPath);
    await expect(loadOnnxModel(path)).rejects.toThrow(/keeps its weights in 'model.onnx_data', which is missing/);
  });

  it("'auto' falls back to cpu here and reports why cuda and webgpu were skipped", async () => {
    const model = await loadOnnxModel(join(dir, 'fp32', 'model.onnx'), { device: 'auto' });
    // This test machine has no GPU: whatever was skipped, cpu must be what ran.
    if (!probeProvider('cuda').available && !probeProvider('webgpu').available) {
      expect(model.provider).toBe('cpu');
      expect(model.skippedProviders.map((s) => s.provider)).toEqual(['cuda', 'webgpu']);
    }
    expect(['cpu', 'cuda', 'webgpu']).toContain(model.provider);
    await model.release();
  });

  it('requesting cuda without its libraries is an ExecutionProviderUnavailableError', async () => {
    if (probeProvider('cuda').available) return; // a CUDA machine: nothing to prove here
    const error = await loadOnnxModel(join(dir, 'fp32', 'model.onnx'), { device: 'cuda' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionProviderUnavailableError);
    expect((error as Error).message).toMatch(/npm rebuild onnxruntime-node/);
  });
});
