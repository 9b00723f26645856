/**
 * Opens the ONNX model of a spec's folder for the UNet, ControlNet and image
 * encoder loaders: `<repo>/<subfolder>/model.onnx` (or `model.<variant>.onnx`,
 * or the `fileName` / `weightName` loader option) plus its `config.json`.
 * Loader options `device` and `sessionOptions` go to onnxruntime.
 * `dtype`/`torch_dtype` are ignored: an export's element types are fixed, so
 * pick the fp16 export with `variant: 'fp16'`.
 */
import type { ComponentSpec, LoaderContext } from '@modular-diffusers/core';
import { loadOnnxModel, type OnnxModel } from '@modular-diffusers/runtime';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';

export interface OpenedOnnxComponent {
  model: OnnxModel;
  config: Record<string, unknown>;
  folder: string;
}

export async function openOnnxComponent(spec: ComponentSpec, context: LoaderContext): Promise<OpenedOnnxComponent> {
  const { path } = await context.resolve();
  const config = (await readJsonConfig(path, 'config.json', { optional: true })) ?? {};
  const file = onnxModelPath(path, spec.variant, context.options.fileName ?? context.options.weightName);
  const model = await loadOnnxModel(file, onnxLoadOptions(context.options));
  return { model, config, folder: path };
}

/** A config value as a finite number, or undefined. */
export function configNumber(config: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = config[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
