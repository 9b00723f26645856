/**
 * One ONNX model on one execution provider: the session, what it declares
 * (names, element types, dims read from the session itself) and a `run` that
 * takes and returns runtime Tensors, converting element types to and from
 * what the session declares.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor.js';
import {
  createWithProvider,
  ExecutionProviderUnavailableError,
  UnknownDeviceError,
  type Device, type ExecutionProvider, type ProviderAttempt } from './execution-provider.js';
import { listExternalDataFiles } from './external-data-files.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';

export interface OnnxValueInfo {
  name: string;
  /** Element type as onnxruntime names it ('float32', 'float16', 'int64', ...). */
  dtype: string;
  /** Fixed sizes as numbers, dynamic axes by their symbolic name. */
  dims: ReadonlyArray<number | string>;
}

export interface LoadOnnxModelOptions {
  /** 'auto' tries cuda, then webgpu, then cpu. Default 'cpu'. */
  device?: Device;
  /** Passed to onnxruntime; `executionProviders` is set from `device`. */
  sessionOptions?: Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;
}

export interface OnnxRunOptions {
  /** Only compute these outputs (default all). */
  outputs?: readonly string[];
  /** Return float16 outputs as float16 instead of converting them to float32. */
  keepFloat16?: boolean;
}

export class OnnxModelLoadError extends Error {
  override name = 'OnnxModelLoadError';
}

export class OnnxRunError extends Error {
  override name = 'OnnxRunError';
}

export class OnnxModel {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  private session: ort.InferenceSession | undefined;

  constructor(
    session: ort.InferenceSession,
    readonly path: string,
    readonly provider: ExecutionProvider,
    /** Bytes on disk: the model file plus its external data files. */
    readonly sizeBytes: number,
    /** Providers skipped before `provider` ran, and why. */
    readonly skippedProviders: readonly ProviderAttempt[] = [],
  ) {
    this.session = session;
    this.inputs = session.inputMetadata.map(valueInfo);
    this.outputs = session.outputMetadata.map(valueInfo);
  }

  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  get released(): boolean {
    return this.session === undefined;
  }

  input(name: string): OnnxValueInfo | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  output(name: string): OnnxValueInfo | undefined {
    return this.outputs.find((o) => o.name === name);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, options: OnnxRunOptions = {}): Promise<Record<string, Tensor>> {
    const session = this.session;
    if (!session) throw new OnnxRunError(`The model ${this.path} was released; load it again before running it.`);

    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(feeds)) {
      if (!this.input(name)) {
        throw new OnnxRunError(`Unexpected input '${name}' for ${this.path}; its inputs are: ${this.inputNames.join(', ')}.`);
      }
    }
    for (const info of this.inputs) {
      const tensor = feeds[info.name];
      if (!tensor) {
        throw new OnnxRunError(`Missing input '${info.name}' for ${this.path} (expects ${describe(info)}).`);
      }
      checkShape(info, tensor, this.path);
      ortFeeds[info.name] = toOrtTensor(tensor, info.dtype, `Input '${info.name}' of ${this.path}`);
    }

    const wanted = options.outputs ?? this.outputNames;
    for (const name of wanted) {
      if (!this.output(name)) {
        throw new OnnxRunError(`Unknown output '${name}' for ${this.path}; its outputs are: ${this.outputNames.join(', ')}.`);
      }
    }
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(ortFeeds, [...wanted]);
    } catch (error) {
      throw new OnnxRunError(`Running ${this.path} on ${this.provider} failed: ${(error as Error).message}`);
    }
    const out: Record<string, Tensor> = {};
    for (const name of wanted) out[name] = fromOrtTensor(results[name] as ort.Tensor, name, options.keepFloat16);
    return out;
  }

  /** Free the session (and its device memory). Safe to call twice. */
  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}

/** Load an ONNX model file (with any external data beside it) on the requested device. */
export async function loadOnnxModel(path: string, options: LoadOnnxModelOptions = {}): Promise<OnnxModel> {
  const modelPath = resolve(path);
  const size = await fileSize(modelPath);
  if (size === undefined) {
    throw new OnnxModelLoadError(`No ONNX model at ${modelPath}; check the path (and the subfolder, for a repo).`);
  }
  let sizeBytes = size;
  for (const location of await listExternalDataFiles(modelPath)) {
    const dataPath = resolve(dirname(modelPath), location);
    const dataSize = await fileSize(dataPath);
    if (dataSize === undefined) {
      throw new OnnxModelLoadError(
        `${modelPath} keeps its weights in '${location}', which is missing: download it into the same folder as the model.`,
      );
    }
    sizeBytes += dataSize;
  }

  const choice = await createWithProvider(options.device ?? 'cpu', (provider) =>
    ort.InferenceSession.create(modelPath, { ...options.sessionOptions, executionProviders: [provider] }),
  ).catch((error: unknown) => {
    if (error instanceof ExecutionProviderUnavailableError || error instanceof UnknownDeviceError) throw error;
    throw new OnnxModelLoadError(`onnxruntime could not load ${modelPath}: ${(error as Error).message}`);
  });
  return new OnnxModel(choice.value, modelPath, choice.provider, sizeBytes, choice.skipped);
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

function valueInfo(meta: ort.InferenceSession.ValueMetadata): OnnxValueInfo {
  if (!meta.isTensor) return { name: meta.name, dtype: 'non-tensor', dims: [] };
  return { name: meta.name, dtype: meta.type, dims: [...meta.shape] };
}

function describe(info: OnnxValueInfo): string {
  return `${info.dtype} [${info.dims.join(', ')}]`;
}

function checkShape(info: OnnxValueInfo, tensor: Tensor, path: string): void {
  // onnxruntime reports [] both for a scalar and for "shape unknown", so [] is not checked.
  if (info.dims.length === 0) return;
  const mismatch =
    info.dims.length !== tensor.rank || info.dims.some((d, i) => typeof d === 'number' && d !== tensor.shape[i]);
  if (mismatch) {
    throw new OnnxRunError(
      `Input '${info.name}' of ${path} expects ${describe(info)} but got [${tensor.shape.join(', ')}].`,
    );
  }
}
