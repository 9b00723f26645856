/**
 * Which file a model component runs: the folder's ONNX export, or a graph
 * built in-process from its diffusers-format config.json + safetensors
 * (@modular-diffusers/model-builder). Loader option
 * `modelSource: 'auto' | 'onnx' | 'safetensors'` (default 'auto': the ONNX
 * export when the folder has one, else the safetensors). The log says which
 * was used. `variant: 'fp16'` means `model.fp16.onnx` or
 * `*.fp16.safetensors`; half-precision weights are converted to float32 for
 * the CPU and kept as they are for cuda and webgpu.
 */
import { ComponentLoadError, InvalidArgumentError, type ComponentSpec, type LoaderContext } from '@modular-diffusers/core';
import { buildModel, hasBuildableWeights, ModelBuildError, type BuildModelOptions, type BuiltModel, type UNetExtensions } from '@modular-diffusers/model-builder';
import { isFile } from './path-kind.js';

export type ModelSource = 'auto' | 'onnx' | 'safetensors';

const PLACEMENT_NOTES: Readonly<Record<BuiltModel['placement'], string>> = {
  'in-place': 'weights read where they lie',
  'float32-copy': 'weights converted to float32 once',
  linked: 'weights from several folders hard-linked beside the graph, half-precision ones converted to float32',
};
const MODEL_SOURCES: readonly ModelSource[] = ['auto', 'onnx', 'safetensors'];

/** The checked `modelSource` loader option. */
export function modelSourceOption(options: Readonly<Record<string, unknown>>): ModelSource {
  const value = options.modelSource ?? 'auto';
  if (!MODEL_SOURCES.includes(value as ModelSource)) {
    throw new InvalidArgumentError(`modelSource must be one of ${MODEL_SOURCES.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(value)}.`);
  }
  return value as ModelSource;
}

export type ChosenModel =
  | { readonly kind: 'onnx'; readonly path: string }
  | {
      readonly kind: 'built';
      readonly built: BuiltModel;
      /** What it was built with (a LoRA rebuilds from these with fused weights). */
      readonly buildOptions: Omit<BuildModelOptions, 'signal' | 'weightOverride'>;
    };

export interface ChooseModelRequest {
  readonly spec: ComponentSpec;
  readonly context: LoaderContext;
  /** The folder with config.json + safetensors. */
  readonly weightsFolder: string;
  /** The ONNX export's file(s) that would be used; all must exist for 'auto' to pick the export. */
  readonly onnxPaths: readonly string[];
  /** Overrides the file check (the VAE's halves live in sibling folders the loader resolves itself). */
  readonly onnxAvailable?: boolean;
  /** The caller named the ONNX file (`fileName`): 'auto' then means that file. */
  readonly onnxFileNamed?: boolean;
  /** For a UNet built with adapter inputs (the ControlNet/IP-Adapter loaders). */
  readonly unet?: UNetExtensions;
  readonly extensionId?: string;
  /** Adapter safetensors the extensions take weights from (an IP-Adapter's). */
  readonly extraWeightFiles?: readonly string[];
  /** The extensions exist only in a built graph (an IP-Adapter): 'auto' builds even beside an ONNX export. */
  readonly requireBuild?: boolean;
}

/** Picks (and, for safetensors, builds or finds in the cache) what the component runs, and logs the choice. */
export async function chooseModel(request: ChooseModelRequest): Promise<ChosenModel> {
  const { spec, context, weightsFolder, onnxPaths } = request;
  const source = modelSourceOption(context.options);
  const variant = spec.variant ?? null;
  const hasOnnx = request.onnxAvailable ?? (onnxPaths.length > 0 && (await Promise.all(onnxPaths.map(isFile))).every(Boolean));
  const useOnnx = source === 'onnx' || (source === 'auto' && !request.requireBuild && (hasOnnx || request.onnxFileNamed === true));
  if (useOnnx) {
    if (source === 'auto') context.logger.info(`${spec.name}: using the ONNX export ${onnxPaths.join(', ')}.`);
    return { kind: 'onnx', path: onnxPaths[0]! };
  }
  if (!(await hasBuildableWeights(weightsFolder, variant))) {
    if (source === 'auto') {
      throw new ComponentLoadError(
        `${spec.name}: ${weightsFolder} has neither an ONNX export (${onnxPaths.join(', ')}) nor config.json with ` +
          `${variant ? `*.${variant}.safetensors` : 'safetensors'} weights; download the folder's model files` +
          `${variant ? `, or load without variant '${variant}'` : ''}.`,
      );
    }
  }
  const device = context.options.device;
  try {
    const buildOptions = {
      folder: weightsFolder,
      variant,
      keepHalfPrecision: device === 'cuda' || device === 'webgpu',
      ...(request.unet ? { unet: request.unet } : {}),
      ...(request.extensionId ? { extensionId: request.extensionId } : {}),
      ...(request.extraWeightFiles ? { extraWeightFiles: request.extraWeightFiles } : {}),
    };
    const built = await buildModel({ ...buildOptions, ...(context.signal ? { signal: context.signal as AbortSignal } : {}) });
    context.logger.info(
      `${spec.name}: ${hasOnnx ? 'chose the safetensors over the ONNX export (modelSource \'safetensors\'): ' : 'no ONNX export, '}` +
        `${built.fromCache ? 'loaded the graph built earlier' : `built an ONNX graph in ${Math.round(built.buildMs)} ms`} from ${built.weightFiles.join(', ')} ` +
        `(${PLACEMENT_NOTES[built.placement]}; cache ${built.cacheEntry}).`,
    );
    return { kind: 'built', built, buildOptions };
  } catch (error) {
    if (error instanceof ModelBuildError) {
      throw new ComponentLoadError(`${spec.name}: cannot build a graph from ${weightsFolder}: ${error.message}`, undefined, { cause: error });
    }
    throw error;
  }
}

