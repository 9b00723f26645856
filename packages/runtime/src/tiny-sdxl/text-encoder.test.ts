import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModel } from '../onnx/onnx-model.js';
import { Tensor } from '../tensor/tensor.js';
import { SeededRandom } from './seeded-random.js';
import { ModelScratch } from './test-models.js';
import { buildTinyTextEncoder } from './text-encoder.js';

const scratch = new ModelScratch();
let te1: OnnxModel;
let te2: OnnxModel;
beforeAll(async () => {
  const root = new SeededRandom(0);
  te1 = await scratch.load('te1', buildTinyTextEncoder({ role: 'text_encoder', hiddenSize: 768, layers: 2 }, root.fork('text_encoder')));
  te2 = await scratch.load(
    'te2',
    buildTinyTextEncoder({ role: 'text_encoder_2', hiddenSize: 1280, projectionDim: 1280, layers: 2 }, root.fork('text_encoder_2')),
  );
});
afterAll(() => scratch.dispose());

// CLIP-like ids: BOS, words, EOS (the largest id, so argmax finds it), then padding.
const BOS = 1000;
const EOS = 1001;
const ids = (rows: number[][]) => new Tensor('int32', Int32Array.from(rows.flat()), [rows.length, rows[0].length]);
const row = (t: Tensor, r: number, width: number) => [...t.data.slice(r * width, (r + 1) * width)] as number[];

describe('tiny text encoders', () => {
  it('pool the final hidden state at the EOS position (argmax of input_ids), as CLIP does', async () => {
    const out = await te1.run({ input_ids: ids([[BOS, 320, 321, EOS, EOS, EOS]]) });
    expect(out.pooler_output.shape).toEqual([1, 768]);
    const eosRow = out.last_hidden_state.data.slice(3 * 768, 4 * 768);
    expect([...out.pooler_output.data]).toEqual([...eosRow]);
  });

  it('give different prompts different pooled embeddings, unaffected by padding after EOS', async () => {
    const out = await te2.run({
      input_ids: ids([
        [BOS, 320, 321, EOS, EOS, EOS],
        [BOS, 322, 321, EOS, EOS, EOS],
        [BOS, 320, 321, EOS, 0, 0], // tokenizer_2 pads with '!' (id 0)
      ]),
    });
    const [a, b, padded] = [0, 1, 2].map((r) => row(out.text_embeds, r, 1280));
    const distance = a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / 1280;
    expect(distance).toBeGreaterThan(0.05);
    // Mixing is causal (a running mean over earlier positions), so what follows EOS cannot change it.
    padded.forEach((v, i) => expect(v).toBeCloseTo(a[i], 5));
  });

  it('return hidden_states.0..N with hidden_states.N before the final layer norm', async () => {
    const out = await te1.run({ input_ids: ids([[BOS, 320, EOS]]) });
    expect(Object.keys(out)).toEqual(['last_hidden_state', 'pooler_output', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2']);
    const last = row(out['hidden_states.2'], 0, 768);
    const mean = last.reduce((s, v) => s + v, 0) / 768;
    const std = Math.sqrt(last.reduce((s, v) => s + (v - mean) ** 2, 0) / 768);
    const normed = last.map((v) => (v - mean) / Math.sqrt(std * std + 1e-5));
    row(out.last_hidden_state, 0, 768).forEach((v, i) => expect(v).toBeCloseTo(normed[i], 4));
  });
});
