/** The VAE's two graphs by name, for the model-class table. */
import type { ModelGraph } from '../graph/model-graph.js';
import type { ModelBuildInput } from '../model-classes.js';
import { buildVaeDecoder, buildVaeEncoder } from './autoencoder-kl.js';

export function buildAutoencoderKL(g: ModelGraph, graphName: string, input: ModelBuildInput): void {
  if (graphName === 'encoder') buildVaeEncoder(g, input.config, input.configFile, input.layerOptions);
  else buildVaeDecoder(g, input.config, input.configFile, input.layerOptions);
}
