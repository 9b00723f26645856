/**
 * transformers' CLIPVisionModelWithProjection (the IP-Adapter image
 * encoder) as one ONNX graph with Optimum's names: `pixel_values` float32
 * [batch, num_channels, image_size, image_size] in; `image_embeds`
 * [batch, projection_dim], `last_hidden_state` [batch, 1 + patches, hidden]
 * and `hidden_states.0..N` out (`hidden_states.<N-1>`, the penultimate
 * layer, is what IP-Adapter Plus reads). The math is transformers': patch
 * convolution without bias, the class token first, learned position
 * embeddings, `pre_layrnorm`, the CLIP encoder, and `post_layernorm` on the
 * class token only (last_hidden_state is left unnormalised), then
 * `visual_projection` without bias. Images must be the config's size
 * (no position-embedding interpolation).
 */
import { ConfigReader, type ModelConfig } from './config-reader.js';
import { clipEncoder, readClipEncoderSpec } from './clip-encoder.js';
import { layerNorm, linear, type LayerOptions } from '../graph/layers.js';
import type { ModelGraph } from '../graph/model-graph.js';

export function buildClipVisionModelWithProjection(g: ModelGraph, config: ModelConfig, configFile: string, options: LayerOptions): void {
  const c = new ConfigReader(config, configFile);
  const spec = readClipEncoderSpec(c);
  const hidden = spec.hidden;
  const imageSize = c.int('image_size', 224);
  const patch = c.int('patch_size', 32);
  const channels = c.int('num_channels', 3);
  const projectionDim = c.int('projection_dim', 512);
  if (patch === 0 || imageSize % patch !== 0) c.fail('patch_size', `(${patch}) must divide image_size (${imageSize}).`);
  const patches = (imageSize / patch) ** 2;
  const p = 'vision_model';

  const pixels = g.input('pixel_values', 'float32', ['batch_size', channels, imageSize, imageSize]);
  const kernel = g.weight(`${p}.embeddings.patch_embedding.weight`, [hidden, channels, patch, patch]);
  const grid = g.op('Conv', [pixels, kernel], { kernel_shape: { ints: [patch, patch] }, strides: { ints: [patch, patch] }, pads: { ints: [0, 0, 0, 0] } });
  const patchTokens = g.op('Transpose', [g.op('Reshape', [grid, g.constInt64([0, hidden, -1])])], { perm: { ints: [0, 2, 1] } });
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.constInt64([0]), g.constInt64([1])]);
  const classShape = g.op('Concat', [batch, g.constInt64([1, hidden])], { axis: { i: 0 } });
  const classToken = g.op('Expand', [g.op('Reshape', [g.weight(`${p}.embeddings.class_embedding`, [hidden]), g.constInt64([1, 1, hidden])]), classShape]);
  const tokens = g.op('Concat', [classToken, patchTokens], { axis: { i: 1 } });
  const embeddings = g.op('Add', [tokens, g.weight(`${p}.embeddings.position_embedding.weight`, [patches + 1, hidden])]);

  const states = clipEncoder(g, layerNorm(g, embeddings, `${p}.pre_layrnorm`, hidden, spec.eps), p, spec, options);
  const last = states[states.length - 1]!;
  const classState = g.op('Gather', [last, g.constInt64([0], [])], { axis: { i: 1 } });
  const pooled = layerNorm(g, classState, `${p}.post_layernorm`, hidden, spec.eps);

  const seqDims = ['batch_size', patches + 1, hidden];
  g.output('image_embeds', linear(g, pooled, 'visual_projection', hidden, projectionDim, false), 'float32', ['batch_size', projectionDim]);
  g.output('last_hidden_state', last, 'float32', seqDims);
  states.forEach((state, index) => g.output(`hidden_states.${index}`, state, 'float32', seqDims));
}
