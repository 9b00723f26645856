/** Opens what chooseModel picked: the export's file, or one graph of a built model with its external-data folder. */
import { loadOnnxModel, type LoadOnnxModelOptions, type OnnxModel } from '@modular-diffusers/runtime';
import { rememberBuiltModel } from './built-model-recipes.js';
import type { ChosenModel } from './model-source.js';

export async function loadChosenModel(chosen: ChosenModel, graph: string, options: LoadOnnxModelOptions): Promise<OnnxModel> {
  if (chosen.kind === 'onnx') return loadOnnxModel(chosen.path, options);
  const model = await loadOnnxModel(chosen.built.graphs[graph]!, { ...options, externalDataFolder: chosen.built.externalDataFolder });
  // Remembered so a LoRA can rebuild this component with fused weights (lora/).
  rememberBuiltModel(model, { buildOptions: chosen.buildOptions, graph, loadOptions: options, weightShapes: chosen.built.weightShapes });
  return model;
}
