/**
 * transformers' CLIPTextModel and CLIPTextModelWithProjection as one ONNX
 * graph with Optimum's signature: `input_ids` int32 [batch, sequence] in;
 * `last_hidden_state`, `pooler_output` (or `text_embeds`) and
 * `hidden_states.0..N` (embeddings, then each layer, before the final
 * layer norm) out. The pooled row is the EOS position: the largest id for
 * configs saved with eos_token_id 2 (transformers' legacy rule), else the
 * first eos_token_id.
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { clipEncoder, readClipEncoderSpec } from './clip-encoder.js';
import { layerNorm, linear, type LayerOptions } from '../graph/layers.js';
import type { ModelGraph } from '../graph/model-graph.js';

export type ClipTextClass = 'CLIPTextModel' | 'CLIPTextModelWithProjection';

const INT32 = 6;
const INT64 = 7;

export function buildClipTextModel(g: ModelGraph, config: ModelConfig, configFile: string, className: ClipTextClass, options: LayerOptions): void {
  const c = new ConfigReader(config, configFile);
  const spec = readClipEncoderSpec(c);
  const hidden = spec.hidden;
  const vocab = c.int('vocab_size');
  const positions = c.int('max_position_embeddings');
  const eos = c.int('eos_token_id', 2);
  const projectionDim = className === 'CLIPTextModelWithProjection' ? c.int('projection_dim') : 0;
  const p = 'text_model';

  const ids32 = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);
  const ids = g.op('Cast', [ids32], { to: { i: INT64 } });
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.constInt64([1])], { axis: { i: 0 } });
  const tokens = g.op('Gather', [g.weight(`${p}.embeddings.token_embedding.weight`, [vocab, hidden]), ids], { axis: { i: 0 } });
  const table = g.weight(`${p}.embeddings.position_embedding.weight`, [positions, hidden]);
  const positionRows = g.op('Slice', [table, g.constInt64([0]), seqLen, g.constInt64([0])]);
  const x = g.op('Add', [tokens, positionRows]);

  // Causal mask: the upper triangle of a [positions, positions] table, cut to the sequence length.
  const mask = new Float32Array(positions * positions);
  for (let r = 0; r < positions; r++) for (let col = r + 1; col < positions; col++) mask[r * positions + col] = -3.4028234663852886e38;
  const maskTable = g.constFloat(mask, [1, 1, positions, positions]);
  const causal = g.op('Slice', [maskTable, g.constInt64([0, 0]), g.op('Concat', [seqLen, seqLen], { axis: { i: 0 } }), g.constInt64([2, 3])]);

  const hiddenStates = clipEncoder(g, x, p, spec, options, causal);
  const last = layerNorm(g, hiddenStates[hiddenStates.length - 1]!, `${p}.final_layer_norm`, hidden, spec.eps);

  const key = eos === 2 ? ids32 : g.op('Cast', [g.op('Equal', [ids, g.constInt64([eos], [])])], { to: { i: INT32 } });
  const position = g.op('Cast', [g.op('ArgMax', [key], { axis: { i: -1 }, keepdims: { i: 1 } })], { to: { i: INT64 } });
  const pooled = g.op('GatherND', [last, position], { batch_dims: { i: 1 } });

  const seqDims = ['batch_size', 'sequence_length', hidden];
  if (className === 'CLIPTextModelWithProjection') {
    g.output('text_embeds', linear(g, pooled, 'text_projection', hidden, projectionDim, false), 'float32', ['batch_size', projectionDim]);
  } else {
    g.output('pooler_output', pooled, 'float32', ['batch_size', hidden]);
  }
  g.output('last_hidden_state', last, 'float32', seqDims);
  hiddenStates.forEach((state, index) => g.output(`hidden_states.${index}`, state, 'float32', seqDims));
}
