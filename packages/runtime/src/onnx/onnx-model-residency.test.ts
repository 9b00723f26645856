import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { GraphBuilder } from './builder/graph-builder.js';
import { writeOnnxModel } from './builder/write-onnx-model.js';
import { ExecutionProviderUnavailableError, probeProvider, UnknownDeviceError } from './execution-provider.js';
import { loadOnnxModel, OnnxRunError } from './onnx-model.js';

let dir: string;
const feeds = () => ({ x: Tensor.float32([2], [1, 1]) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onnx-residency-'));
  // y = x · 5 broadcast to [batch, 64], weights in external data.
  const g = new GraphBuilder('model');
  const x = g.input('x', 'float32', ['batch', 1]);
  g.output('y', g.op('Mul', [x, g.constFloat(new Float32Array(64).fill(5), [1, 64])]), 'float32', ['batch', 64]);
  await writeOnnxModel(join(dir, 'm', 'model.onnx'), g, { externalData: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('OnnxModel residency', () => {
  it('offloads the session and re-creates it on ensureResident, keeping the object, its metadata and its results', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    try {
      const model = await loadOnnxModel(join(dir, 'm', 'model.onnx'));
      const before = (await model.run(feeds())).y!.data;
      expect(before[63]).toBe(10);
      expect([model.isResident, model.sessionCreations, model.lastRunProvider]).toEqual([true, 1, 'cpu']);
      await model.offload();
      await model.offload(); // twice is fine
      expect([model.isResident, model.released, model.sizeBytes > 256]).toEqual([false, false, true]);
      await model.ensureResident();
      await model.ensureResident(); // resident on the device asked for: no new session
      expect([model.isResident, model.sessionCreations, model.provider]).toEqual([true, 2, 'cpu']);
      expect(model.inputNames).toEqual(['x']);
      expect((await model.run(feeds())).y!.data).toEqual(before);
      expect(create).toHaveBeenCalledTimes(2);
      await model.release();
    } finally {
      create.mockRestore();
    }
  });

  it('brings an offloaded model back by itself on run, or through the residency hook first', async () => {
    const model = await loadOnnxModel(join(dir, 'm', 'model.onnx'));
    await model.offload();
    expect((await model.run(feeds())).y!.data[0]).toBe(10);
    expect(model.sessionCreations).toBe(2);

    const calls: boolean[] = [];
    model.setResidencyHook(async () => {
      calls.push(model.isResident);
      await model.ensureResident('cpu');
    });
    await model.offload();
    await model.run(feeds());
    expect(calls).toEqual([false]); // the hook ran while the session was gone, and brought it back
    expect(model.sessionCreations).toBe(3);
    model.setResidencyHook(null);
    await model.run(feeds());
    expect(calls).toHaveLength(1);
    await model.release();
    await expect(model.run(feeds())).rejects.toThrow(OnnxRunError);
    await expect(model.ensureResident()).rejects.toThrow(/was released/);
  });

  it('waits for an in-flight run before dropping the session', async () => {
    const model = await loadOnnxModel(join(dir, 'm', 'model.onnx'));
    const running = model.run(feeds());
    await model.offload();
    expect((await running).y!.data[0]).toBe(10);
    expect(model.isResident).toBe(false);
    await model.release();
  });

  it('keeps its session when the provider asked for is unavailable, and rejects unknown devices before touching it', async () => {
    const model = await loadOnnxModel(join(dir, 'm', 'model.onnx'));
    await expect(model.ensureResident('tpu' as never)).rejects.toThrow(UnknownDeviceError);
    if (!probeProvider('cuda').available) {
      await expect(model.ensureResident('cuda')).rejects.toThrow(ExecutionProviderUnavailableError);
      expect([model.isResident, model.provider, model.sessionCreations]).toEqual([true, 'cpu', 1]);
    }
    await model.ensureResident('auto'); // resident anywhere satisfies 'auto'
    expect(model.sessionCreations).toBe(1);
    await model.release();
  });
});
