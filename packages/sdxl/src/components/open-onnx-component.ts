/**
 * Opens the ONNX model of a spec's folder for the UNet, ControlNet and image
 * encoder loaders: `<repo>/<subfolder>/model.onnx` (or `model.<variant>.onnx`,
 * or the `fileName` / `weightName` loader option) plus its `config.json`.
 * Loader options `device` and `sessionOptions` go to onnxruntime. A folder
 * with only config.json + safetensors is built into a graph (model-source.ts;
 * `controlNetResiduals: true` builds a UNet with ControlNet residual inputs),
 * and `rebuild` builds it again with more inputs when an adapter needs them.
 * `dtype`/`torch_dtype` cannot change an export's element types (they are
 * fixed in the file); when they ask for another precision than the export
 * has, the loader says so and how to get it (`variant: 'fp16'`).
 */
import { join } from 'node:path';
import { ComponentLoadError, InvalidArgumentError, type ComponentSpec, type LoaderContext } from '@modular-diffusers/core';
import { ipAdapterUNetExtensions, ModelBuildError, type IpAdapterUNetBuild } from '@modular-diffusers/model-builder';
import type { OnnxModel } from '@modular-diffusers/runtime';
import { hasBuildableWeights, type UNetExtensions } from '@modular-diffusers/model-builder';
import { loadChosenModel } from './load-chosen-model.js';
import { chooseModel, modelSourceOption, type ChosenModel } from './model-source.js';
import { onnxLoadOptions, onnxModelPath } from './onnx-load-options.js';
import { readJsonConfig } from './read-json-config.js';

export interface OpenedOnnxComponent {
  model: OnnxModel;
  config: Record<string, unknown>;
  folder: string;
  /** What was opened: an ONNX export, or a graph built from the folder's safetensors. */
  chosen: ChosenModel;
  /**
   * Builds (or takes from the built-graph cache) the same component with UNet extensions and
   * opens it with the same loader options, or resolves null when it cannot: for a built graph
   * always; for an ONNX export chosen by modelSource 'auto' (no file named), from the folder's
   * diffusers weights when it has them (an export's inputs are fixed in the file, so the
   * weights beside it are what can take new inputs). Null for an export the caller asked for.
   */
  rebuild: ((request: RebuildRequest) => Promise<OnnxModel | null>) | null;
}

export interface RebuildRequest {
  readonly unet: UNetExtensions;
  readonly extensionId?: string;
  /** Called between the build and the new session (e.g. to free the old session first, so two never coexist). */
  readonly beforeOpen?: () => Promise<void>;
}

export async function openOnnxComponent(spec: ComponentSpec, context: LoaderContext): Promise<OpenedOnnxComponent> {
  const { path } = await context.resolve();
  const config = (await readJsonConfig(path, 'config.json', { optional: true })) ?? {};
  const file = onnxModelPath(path, spec.variant, context.options.fileName ?? context.options.weightName);
  const controlNetResiduals = context.options.controlNetResiduals;
  if (controlNetResiduals !== undefined && typeof controlNetResiduals !== 'boolean') {
    throw new InvalidArgumentError('controlNetResiduals must be true or false (build the UNet with ControlNet residual inputs).');
  }
  const adapter = await unetAdapterBuild(path, config, context.options);
  const baseUnet = controlNetResiduals || adapter ? { ...adapter?.unet, ...(controlNetResiduals ? { controlNetResiduals } : {}) } : null;
  const request = {
    spec,
    context,
    weightsFolder: path,
    onnxPaths: [file],
    onnxFileNamed: (context.options.fileName ?? context.options.weightName) !== undefined,
    ...(adapter ? { extensionId: adapter.extensionId, extraWeightFiles: adapter.extraWeightFiles, requireBuild: true } : {}),
  };
  const chosen = await chooseModel({ ...request, ...(baseUnet ? { unet: baseUnet } : {}) });
  const model = await loadChosenModel(chosen, 'model', onnxLoadOptions(context.options));
  warnOnPrecisionMismatch(spec, context, model);
  // A later rebuild must not be cancelled by the load's signal, which belongs to a finished call.
  const { signal: _loadSignal, ...lasting } = context;
  const fromWeights = chosen.kind === 'onnx' && modelSourceOption(context.options) === 'auto' && !request.onnxFileNamed;
  const rebuild = chosen.kind === 'built' || fromWeights
    ? async ({ unet, extensionId, beforeOpen }: RebuildRequest) => {
        if (fromWeights && !(await hasBuildableWeights(path, spec.variant ?? null))) return null;
        const options = fromWeights ? { ...context.options, modelSource: 'safetensors' } : context.options;
        const again = await chooseModel({
          ...request,
          context: { ...lasting, options },
          unet: { ...(baseUnet ?? {}), ...unet },
          ...(extensionId ? { extensionId } : {}),
        });
        await beforeOpen?.();
        return loadChosenModel(again, 'model', onnxLoadOptions(context.options));
      }
    : null;
  return { model, config, folder: path, chosen, rebuild };
}

/** The IP-Adapter a UNet is built with (loader option `ipAdapterWeights`), checked against the UNet's config. */
async function unetAdapterBuild(folder: string, config: Record<string, unknown>, options: Record<string, unknown>): Promise<IpAdapterUNetBuild | null> {
  const file = options.ipAdapterWeights;
  if (file === undefined) return null;
  if (typeof file !== 'string' || file === '') {
    throw new InvalidArgumentError('ipAdapterWeights must be the path of an IP-Adapter .safetensors file (pipeline.loader.loadIpAdapter sets it).');
  }
  if (modelSourceOption(options) === 'onnx') {
    throw new InvalidArgumentError(`ipAdapterWeights builds the UNet from its safetensors (${folder}); it cannot go with modelSource 'onnx'.`);
  }
  try {
    return await ipAdapterUNetExtensions(file, config, join(folder, 'config.json'));
  } catch (error) {
    if (error instanceof ModelBuildError) throw new ComponentLoadError(`unet: cannot build the IP-Adapter ${file} into ${folder}: ${error.message}`, undefined, { cause: error });
    throw error;
  }
}

function warnOnPrecisionMismatch(spec: ComponentSpec, context: LoaderContext, model: OnnxModel): void {
  const asked = context.options.dtype ?? context.options.torchDtype;
  if (asked !== 'float16' && asked !== 'float32') return;
  const exported = model.inputs.find((input) => input.dtype === 'float16' || input.dtype === 'float32')?.dtype;
  if (exported && exported !== asked) {
    context.logger.warn(
      `${spec.name}: dtype '${asked}' was asked for but this ONNX export computes in ${exported} (an export's precision is fixed); ` +
        (asked === 'float16' ? `load its fp16 export with { variant: 'fp16' } where the repo has one.` : `load its float32 export (no variant).`),
    );
  }
}

/** A config value as a finite number, or undefined. */
export function configNumber(config: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = config[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
