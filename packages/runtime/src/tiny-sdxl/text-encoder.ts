/**
 * The tiny CLIP text encoders, with Optimum's I/O for SDXL's two encoders.
 *
 * Token ids are hashed into a 1024-row embedding table (id mod 1024), so any
 * CLIP vocabulary works, the tiny one without collisions. Each layer mixes
 * causally like CLIP's masked attention, but as a running mean over earlier
 * positions (CumSum / position), followed by a low-rank residual map; so the
 * EOS position, which CLIP pools (argmax of input_ids: EOS has the largest
 * id), depends on the whole prompt and different prompts pool differently.
 */
import { GraphBuilder, type GraphPrecision } from '../onnx/builder/graph-builder.js';
import { OnnxDataType } from '../onnx/proto/onnx-schema.js';
import { layerNorm, lowRankLinear } from './graph-parts.js';
import type { SeededRandom } from './seeded-random.js';

export const TEXT_EMBEDDING_ROWS = 1024;
export const CLIP_MAX_POSITIONS = 77;

export interface TinyTextEncoderSpec {
  /** 'text_encoder' (CLIPTextModel) or 'text_encoder_2' (CLIPTextModelWithProjection). */
  role: 'text_encoder' | 'text_encoder_2';
  hiddenSize: number;
  layers: number;
  /** Present for text_encoder_2: the text_projection width. */
  projectionDim?: number;
  rank?: number;
  precision?: GraphPrecision;
}

export function buildTinyTextEncoder(spec: TinyTextEncoderSpec, rng: SeededRandom): GraphBuilder {
  const { hiddenSize: width, layers } = spec;
  const rank = spec.rank ?? 32;
  const g = new GraphBuilder(spec.role, { precision: spec.precision });
  const ids = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);

  const rows = g.op('Mod', [ids, g.initializer('vocab_rows', 'int32', [], Int32Array.of(TEXT_EMBEDDING_ROWS))]);
  const tokenTable = g.constFloat(rng.normal(TEXT_EMBEDDING_ROWS * width), [TEXT_EMBEDDING_ROWS, width]);
  const tokens = g.op('Gather', [tokenTable, rows], { axis: 0 });

  const idsShape = g.op('Shape', [ids]);
  const seqLen = g.op('Slice', [idsShape, g.constInt64([1]), g.constInt64([2])]);
  const positionTable = g.constFloat(rng.normal(CLIP_MAX_POSITIONS * width, 0.1), [CLIP_MAX_POSITIONS, width]);
  const positions = g.op('Slice', [positionTable, g.constInt64([0]), seqLen, g.constInt64([0])]);
  let hidden = g.op('Add', [tokens, positions]);

  // 1, 2, ..., s as float [1, s, 1]: the divisor that turns a cumulative sum into a running mean.
  const seqScalar = g.op('Squeeze', [seqLen, g.constInt64([0])]);
  const counts = g.op('Range', [g.constInt64([1], []), g.op('Add', [seqScalar, g.constInt64([1], [])]), g.constInt64([1], [])]);
  const countsF = g.op('Unsqueeze', [g.op('Cast', [counts], { to: OnnxDataType.float32 }), g.constInt64([0, 2])]);

  const hiddenStates = [hidden];
  for (let layer = 0; layer < layers; layer++) {
    const runningMean = g.op('Div', [g.op('CumSum', [hidden, g.constInt64([1], [])]), countsF]);
    const update = g.op('Tanh', [lowRankLinear(g, layerNorm(g, runningMean, width), width, width, rank, rng)]);
    hidden = g.op('Add', [hidden, update]);
    hiddenStates.push(hidden);
  }
  const last = layerNorm(g, hidden, width);
  const eos = g.op('ArgMax', [ids], { axis: -1, keepdims: 1 });
  const pooled = g.op('GatherND', [last, eos], { batch_dims: 1 });

  const dims = ['batch_size', 'sequence_length', width];
  if (spec.role === 'text_encoder') {
    g.output('last_hidden_state', last, 'float32', dims);
    g.output('pooler_output', pooled, 'float32', ['batch_size', width]);
  } else {
    const projectionDim = spec.projectionDim ?? width;
    // CLIP's text_projection (no bias), low-rank here to keep the file small.
    const textEmbeds = lowRankLinear(g, pooled, width, projectionDim, 2 * rank, rng);
    g.output('text_embeds', textEmbeds, 'float32', ['batch_size', projectionDim]);
    g.output('last_hidden_state', last, 'float32', dims);
  }
  hiddenStates.forEach((state, i) => g.output(`hidden_states.${i}`, state, 'float32', dims));
  return g;
}
