/**
 * Loaders for SDXL's two CLIP text encoders: `<folder>/model.onnx` (or `model.<variant>.onnx`) plus config.json,
 * or, for a folder with only transformers' `model.safetensors`, a graph built from it (see model-source.ts).
 * The session is created at the first encode: a pipeline given `prompt_embeds` never runs the encoders, so it
 * never pays for their sessions (the files are still resolved, downloaded and checked at load).
 */
import type { ComponentLoader, ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import { chooseModel } from './model-source.js';
import { loadChosenModel } from './load-chosen-model.js';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';

function textModelLoader(type: string, Model: typeof CLIPTextModel): ComponentLoader {
  return {
    type,
    async fromPretrained(spec: ComponentSpec, context: LoaderContext) {
      const { path } = await context.resolve();
      const config = (await readJsonConfig(path, 'config.json', { optional: true })) ?? {};
      const chosen = await chooseModel({ spec, context, weightsFolder: path, onnxPaths: [onnxModelPath(path, spec.variant, context.options.fileName)], onnxFileNamed: context.options.fileName !== undefined });
      const model = await loadChosenModel(chosen, 'model', { ...onnxLoadOptions(context.options), deferSession: true });
      return new Model(model, config, path);
    },
  };
}

export const clipTextModelLoaders: ComponentLoader[] = [
  textModelLoader('CLIPTextModel', CLIPTextModel),
  textModelLoader('CLIPTextModelWithProjection', CLIPTextModelWithProjection),
];
