import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GraphBuilder } from './builder/graph-builder.js';
import { writeOnnxModel } from './builder/write-onnx-model.js';
import { withDefaultSessionOptions } from './default-session-options.js';
import { loadOnnxModel } from './onnx-model.js';

describe('withDefaultSessionOptions', () => {
  it('turns thread-pool spinning off when the caller says nothing', () => {
    expect(withDefaultSessionOptions(undefined)).toEqual({
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  });

  it("keeps the caller's options and lets the caller's config entries win, key by key", () => {
    const options = withDefaultSessionOptions({
      intraOpNumThreads: 4,
      extra: { session: { intra_op: { allow_spinning: '1' }, use_env_allocators: '1' } },
    });
    expect(options).toEqual({
      intraOpNumThreads: 4,
      extra: {
        session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' }, use_env_allocators: '1' },
      },
    });
  });
});

describe('sessions are created with the defaults', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'session-options-'));
    const g = new GraphBuilder('model');
    const x = g.input('x', 'float32', [1]);
    g.output('y', g.op('Neg', [x]), 'float32', [1]);
    await writeOnnxModel(join(dir, 'model.onnx'), g);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes allow_spinning 0 to onnxruntime, and the caller can turn it back on', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    await loadOnnxModel(join(dir, 'model.onnx'));
    await loadOnnxModel(join(dir, 'model.onnx'), { sessionOptions: { extra: { session: { intra_op: { allow_spinning: '1' } } } } });
    const extras = create.mock.calls.map((call) => (call[1] as ort.InferenceSession.SessionOptions).extra);
    expect(extras).toEqual([
      { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      { session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' } } },
    ]);
  });
});
