/**
 * The weights a config needs, by key and shape, without any file: the
 * builder runs against a recorder. For tools that make or check checkpoints
 * (benchmarks writing random weights, an adapter loader checking its keys).
 */
import { modelClassDefinition } from './model-classes.js';
import type { ModelConfig } from './builders/config-reader.js';
import type { UNetExtensions } from './builders/unet-2d-condition.js';
import { ModelGraph, type WeightPlacer, type WeightSource } from './graph/model-graph.js';
import type { WeightRef } from './safetensors/weight-set.js';

export function listModelWeights(className: string, config: ModelConfig, options: { unet?: UNetExtensions } = {}): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  const source: WeightSource = {
    has: () => true,
    take(key, shape) {
      if (!shape) throw new Error(`listModelWeights: the builder takes '${key}' without a shape`);
      shapes.set(key, shape);
      const info = { name: key, dtype: 'F32' as const, shape, fileOffset: 0, byteLength: shape.reduce((a, b) => a * b, 4) };
      return { key, info, file: { path: 'recorder', fileSize: 0, dataStart: 0, tensors: new Map(), metadata: {}, headerBytes: Buffer.alloc(0) } } satisfies WeightRef;
    },
  };
  const placer: WeightPlacer = { bind: (ref) => ({ dtype: 'float32', location: 'recorder', offset: 0, length: ref.info.byteLength }) };
  const definition = modelClassDefinition(className, 'config.json');
  for (const graphName of definition.graphs) {
    definition.build(new ModelGraph(graphName, source, placer), graphName, { config, configFile: 'config.json', layerOptions: { fused: true }, unet: options.unet });
  }
  return shapes;
}
