/** Opens what chooseModel picked: the export's file, or one graph of a built model with its external-data folder. */
import { loadOnnxModel, type LoadOnnxModelOptions, type OnnxModel } from '@modular-diffusers/runtime';
import type { ChosenModel } from './model-source.js';

export function loadChosenModel(chosen: ChosenModel, graph: string, options: LoadOnnxModelOptions): Promise<OnnxModel> {
  if (chosen.kind === 'onnx') return loadOnnxModel(chosen.path, options);
  return loadOnnxModel(chosen.built.graphs[graph]!, { ...options, externalDataFolder: chosen.built.externalDataFolder });
}
