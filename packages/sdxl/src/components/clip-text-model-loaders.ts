/**
 * Loaders for SDXL's two CLIP text encoders: `<folder>/model.onnx` (or `model.<variant>.onnx`) plus config.json.
 * The session is created at the first encode: a pipeline given `prompt_embeds` never runs the encoders, so it
 * never pays for their sessions (the files are still resolved, downloaded and checked at load).
 */
import type { ComponentLoader, ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import { loadOnnxModel } from '@modular-diffusers/runtime';
import { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';

function textModelLoader(type: string, Model: typeof CLIPTextModel): ComponentLoader {
  return {
    type,
    async fromPretrained(spec: ComponentSpec, context: LoaderContext) {
      const { path } = await context.resolve();
      const config = (await readJsonConfig(path, 'config.json', { optional: true })) ?? {};
      const model = await loadOnnxModel(onnxModelPath(path, spec.variant, context.options.fileName), {
        ...onnxLoadOptions(context.options),
        deferSession: true,
      });
      return new Model(model, config, path);
    },
  };
}

export const clipTextModelLoaders: ComponentLoader[] = [
  textModelLoader('CLIPTextModel', CLIPTextModel),
  textModelLoader('CLIPTextModelWithProjection', CLIPTextModelWithProjection),
];
