import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExternalDataFiles } from '../external-data-files.js';
import { ModelProto } from '../proto/onnx-schema.js';
import { floatAttr, GraphBuilder, GraphBuilderError, OPSET_VERSION } from './graph-builder.js';
import { encodeOnnxModel, writeOnnxModel } from './write-onnx-model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graph-builder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** y = x · W + 0.5 with W[i][j] = i + j/10 over a [2, 3] weight; an int64 argmax rides along. */
function linearGraph(precision: 'float32' | 'float16' = 'float32'): GraphBuilder {
  const g = new GraphBuilder('linear', { precision });
  const x = g.input('x', 'float32', ['batch', 2]);
  const w = g.constFloat([0, 0.1, 0.2, 1, 1.1, 1.2], [2, 3]);
  const y = g.op('Add', [g.op('MatMul', [x, w]), g.constFloat([0.5], [])]);
  g.output('y', y, 'float32', ['batch', 3]);
  g.output('best', g.op('ArgMax', [y], { axis: 1, keepdims: 0 }), 'int64', ['batch']);
  return g;
}

describe('GraphBuilder', () => {
  it('encodes a ModelProto with opset 17, dims as dim_value/dim_param and typed attributes', () => {
    const g = linearGraph();
    g.op('LeakyRelu', ['y'], { alpha: floatAttr(1) });
    const decoded = ModelProto.toObject(ModelProto.decode(encodeOnnxModel(g).model), { longs: Number }) as any;
    expect(decoded.opsetImport).toEqual([{ domain: '', version: OPSET_VERSION }]);
    expect(decoded.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 2 }]);
    const argmax = decoded.graph.node.find((n: any) => n.opType === 'ArgMax');
    expect(argmax.attribute).toEqual([
      { name: 'axis', type: 2, i: 1 },
      { name: 'keepdims', type: 2, i: 0 },
    ]);
    const leaky = decoded.graph.node.find((n: any) => n.opType === 'LeakyRelu');
    expect(leaky.attribute).toEqual([{ name: 'alpha', type: 1, f: 1 }]);
  });

  it('rejects a reused value name and a mis-sized initializer', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(GraphBuilderError);
    expect(() => g.initializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow(/3 values but dims \[2, 2\] need 4/);
  });

  it('runs in onnxruntime from bytes: [1, 2] · W + 0.5 = [2.5, 2.8, 3.1]', async () => {
    const session = await ort.InferenceSession.create(encodeOnnxModel(linearGraph()).model);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2), [1, 2]) });
    // 1·[0, .1, .2] + 2·[1, 1.1, 1.2] + .5
    expect([...(out.y.data as Float32Array)].map((v) => +v.toFixed(5))).toEqual([2.5, 2.8, 3.1]);
    expect(out.best.data).toEqual(BigInt64Array.of(2n));
    await session.release();
  });

  it('writes large initializers to model.onnx_data and onnxruntime loads them from the path', async () => {
    const g = new GraphBuilder('external');
    const x = g.input('x', 'float32', [1, 512]);
    const w = g.constFloat(Float32Array.from({ length: 512 }, (_, i) => i), [512, 1]);
    g.output('y', g.op('MatMul', [x, w]), 'float32', [1, 1]);
    const path = join(dir, 'ext', 'model.onnx');
    const written = await writeOnnxModel(path, g, { externalData: true });
    expect(written).toEqual([path, join(dir, 'ext', 'model.onnx_data')]);
    expect((await stat(written[1])).size).toBe(512 * 4);
    expect((await readFile(path)).byteLength).toBeLessThan(512);
    expect(await listExternalDataFiles(path)).toEqual(['model.onnx_data']);

    const session = await ort.InferenceSession.create(path);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(512).fill(1), [1, 512]) });
    expect(out.y.data[0]).toBe((511 * 512) / 2); // sum of 0..511
    await session.release();
  });

  it('float16 precision declares half I/O and weights but computes the same values', async () => {
    const session = await ort.InferenceSession.create(encodeOnnxModel(linearGraph('float16')).model);
    expect(session.inputMetadata[0]).toMatchObject({ type: 'float16' });
    expect(session.outputMetadata[0]).toMatchObject({ type: 'float16' });
    expect(session.outputMetadata[1]).toMatchObject({ type: 'int64' });
    // [1, 2] in half bits: 0x3c00, 0x4000. The weights are stored as half too: 0.1 -> 0.0999756, 1.1 -> 1.0996094,
    // so y1 = 0.0999756 + 2·1.0996094 + 0.5 = 2.7991944, whose nearest half is 0x4199 (2.7988281; 0x419a is 2.8007813).
    // y0 = 2.5 (0x4100) and y2 = 0.2000122 + 2·1.2001953 + 0.5 = 3.1004028 -> 0x4233 (3.0996094) are exact enough.
    const out = await session.run({ x: new ort.Tensor('float16', Uint16Array.of(0x3c00, 0x4000), [1, 2]) });
    expect([...(out.y.data as Uint16Array)]).toEqual([0x4100, 0x4199, 0x4233]);
    await session.release();
  });
});
