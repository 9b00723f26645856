/**
 * One ONNX model on one execution provider: the session, what it declares
 * (names, element types, dims read from the session itself) and a `run` that
 * takes and returns runtime Tensors, converting element types to and from
 * what the session declares. The session can be dropped (`offload`) and
 * re-created, on the same or another provider (`ensureResident`), while the
 * object stays the same, which is what a memory budget needs.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../tensor/tensor.js';
import {
  createWithProvider,
  ExecutionProviderUnavailableError,
  probeProvider,
  providerCandidates,
  providerRemedy,
  UnknownDeviceError,
  type Device,
  type ExecutionProvider,
  type ProviderAttempt,
  type ProviderChoice,
} from './execution-provider.js';
import { withDefaultSessionOptions } from './default-session-options.js';
import { listExternalDataFiles } from './external-data-files.js';
import { readOnnxGraphIo } from './onnx-file-metadata.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

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
  /**
   * Read the inputs and outputs from the file and create the session at the
   * first run (or `ensureResident`) instead of now, for a component a
   * pipeline may never run (a text encoder when the embeddings are given).
   * The file and its external data are still checked to exist.
   */
  deferSession?: boolean;
  /**
   * The folder the model's external data locations are resolved in, when
   * it is not the model file's own (a graph built over safetensors files
   * that lie elsewhere). onnxruntime only reads external data inside that
   * one folder, so the session is created from the model's bytes with
   * `session.model_external_initializers_file_folder_path` set to it.
   */
  externalDataFolder?: string;
}

export interface OnnxRunOptions {
  /** Only compute these outputs (default all). */
  outputs?: readonly string[];
  /** Return float16 outputs as float16 instead of converting them to float32. */
  keepFloat16?: boolean;
}

export class OnnxModelLoadError extends ModularDiffusersError {
  static override readonly code: string = 'ONNX_MODEL_LOAD';
  override name = 'OnnxModelLoadError';
}

export class OnnxRunError extends ModularDiffusersError {
  static override readonly code: string = 'ONNX_RUN';
  override name = 'OnnxRunError';
}

export class OnnxModel {
  /** What the session declares (read from the file until a deferred session exists). */
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  /** Sessions created for this model: 1 at load (0 when deferred), one more per re-creation after an offload or a move. */
  sessionCreations: number;
  /** The provider that ran the last `run`, null before the first. */
  lastRunProvider: ExecutionProvider | null = null;
  private session: ort.InferenceSession | undefined;
  private currentProvider: ExecutionProvider;
  private attempts: readonly ProviderAttempt[];
  /** The device a re-created session is asked for: the load device, then whatever `ensureResident` last named. */
  private targetDevice: Device;
  private readonly sessionOptions: LoadOnnxModelOptions['sessionOptions'];
  private readonly externalDataFolder: string | undefined;
  private disposed = false;
  private pendingSession: Promise<void> | null = null;
  private activeRuns = 0;
  private idleWaiters: Array<() => void> = [];
  private residencyHook: (() => Promise<void>) | null = null;

  constructor(
    /** The session, or the graph's inputs and outputs read from the file when the session is deferred. */
    session: ort.InferenceSession | { inputs: readonly OnnxValueInfo[]; outputs: readonly OnnxValueInfo[] },
    readonly path: string,
    provider: ExecutionProvider,
    /** Bytes on disk: the model file plus its external data files. */
    readonly sizeBytes: number,
    /** Providers skipped before `provider` ran, and why. */
    skippedProviders: readonly ProviderAttempt[] = [],
    /** How it was loaded, so an offloaded session can be re-created the same way. */
    loadOptions: LoadOnnxModelOptions = {},
  ) {
    this.currentProvider = provider;
    this.attempts = skippedProviders;
    this.targetDevice = loadOptions.device ?? provider;
    this.sessionOptions = loadOptions.sessionOptions;
    this.externalDataFolder = loadOptions.externalDataFolder;
    if ('inputMetadata' in session) {
      this.session = session as ort.InferenceSession;
      this.sessionCreations = 1;
      this.inputs = this.session.inputMetadata.map(valueInfo);
      this.outputs = this.session.outputMetadata.map(valueInfo);
    } else {
      this.sessionCreations = 0;
      this.inputs = session.inputs;
      this.outputs = session.outputs;
    }
  }

  /** The provider the session lives on (or last lived on, when offloaded). */
  get provider(): ExecutionProvider {
    return this.currentProvider;
  }

  /** Providers skipped before `provider` when the current session was created, and why. */
  get skippedProviders(): readonly ProviderAttempt[] {
    return this.attempts;
  }

  /** Whether a session exists now. */
  get isResident(): boolean {
    return this.session !== undefined;
  }

  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  /** True after `release()`: the model is done and runs throw. An offloaded model is not released. */
  get released(): boolean {
    return this.disposed;
  }

  input(name: string): OnnxValueInfo | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  output(name: string): OnnxValueInfo | undefined {
    return this.outputs.find((o) => o.name === name);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, options: OnnxRunOptions = {}): Promise<Record<string, Tensor>> {
    this.throwIfReleased();

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
    // A memory budget makes room (and brings the session back) here; without one an offloaded model comes back by itself.
    if (this.residencyHook) await this.residencyHook();
    if (!this.session) await this.ensureResident();
    this.throwIfReleased();
    const session = this.session!;
    const provider = this.currentProvider;
    let results: ort.InferenceSession.OnnxValueMapType;
    this.activeRuns += 1;
    try {
      results = await session.run(ortFeeds, [...wanted]);
    } catch (error) {
      throw new OnnxRunError(`Running ${this.path} on ${provider} failed: ${(error as Error).message}`);
    } finally {
      this.activeRuns -= 1;
      if (this.activeRuns === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
    this.lastRunProvider = provider;
    const out: Record<string, Tensor> = {};
    for (const name of wanted) out[name] = fromOrtTensor(results[name] as ort.Tensor, name, options.keepFloat16);
    return out;
  }

  /**
   * Creates the session again if it was offloaded, or moves it when it lives
   * on another provider than `device` ('auto' accepts wherever it is).
   * Without a device, the last one asked for (at first, the load device).
   */
  async ensureResident(device?: Device): Promise<void> {
    this.throwIfReleased();
    if (device !== undefined) providerCandidates(device); // an unknown device fails here, before the session is dropped
    await this.settled();
    const target = device ?? this.targetDevice;
    if (this.session && (target === 'auto' || target === this.currentProvider)) return;
    this.pendingSession = (async () => {
      // The new session first: if its provider fails, the model keeps the one it has.
      const choice = await createSession(this.path, target, this.sessionOptions, this.externalDataFolder);
      if (this.disposed) {
        await choice.value.release();
        this.throwIfReleased();
      }
      await this.dropSession();
      if (this.sessionCreations === 0) {
        // A deferred model declared what its file says; from now on, what onnxruntime says.
        this.inputs = choice.value.inputMetadata.map(valueInfo);
        this.outputs = choice.value.outputMetadata.map(valueInfo);
      }
      this.session = choice.value;
      this.currentProvider = choice.provider;
      this.attempts = choice.skipped;
      this.targetDevice = target;
      this.sessionCreations += 1;
    })().finally(() => {
      this.pendingSession = null;
    });
    await this.pendingSession;
  }

  /** Frees the session (and its device memory) after in-flight runs finish; the next run or `ensureResident` re-creates it. */
  async offload(): Promise<void> {
    await this.settled();
    await this.dropSession();
  }

  /** Awaited before every run; a ComponentsManager with auto offload installs it. Null removes it. */
  setResidencyHook(hook: (() => Promise<void>) | null): void {
    this.residencyHook = hook;
  }

  /** Free the session (and its device memory) for good: later runs throw. Safe to call twice. */
  async release(): Promise<void> {
    this.disposed = true;
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }

  /** Waits out a session being created (its failure is the creator's to report). */
  private async settled(): Promise<void> {
    while (this.pendingSession) await this.pendingSession.catch(() => undefined);
  }

  private async dropSession(): Promise<void> {
    while (this.activeRuns > 0) await new Promise<void>((wake) => this.idleWaiters.push(wake));
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }

  private throwIfReleased(): void {
    if (this.disposed) throw new OnnxRunError(`The model ${this.path} was released; load it again before running it.`);
  }
}

/** Load an ONNX model file (with any external data beside it) on the requested device. */
export async function loadOnnxModel(path: string, options: LoadOnnxModelOptions = {}): Promise<OnnxModel> {
  const modelPath = resolve(path);
  const sizeBytes = await onnxModelSizeBytes(modelPath, options.externalDataFolder);
  if (options.deferSession) {
    const device = options.device ?? 'cpu';
    providerCandidates(device); // an unknown device fails at load, as without deferral
    if (device !== 'auto') {
      // A named provider that is not installed fails at load too, not at the first run.
      const probe = probeProvider(device as ExecutionProvider);
      if (!probe.available) throw new ExecutionProviderUnavailableError(probe.provider, probe.reason ?? 'it is not installed.', providerRemedy(probe.provider));
    }
    const io = await readOnnxGraphIo(modelPath).catch((error: unknown) => {
      throw new OnnxModelLoadError(`Cannot read the inputs and outputs of ${modelPath}: ${(error as Error).message}`);
    });
    // Until the session exists the provider is the one asked for ('auto' resolves at the first run).
    const provider = (device === 'auto' ? 'cpu' : device) as ExecutionProvider;
    return new OnnxModel(io, modelPath, provider, sizeBytes, [], options);
  }
  const choice = await createSession(modelPath, options.device ?? 'cpu', options.sessionOptions, options.externalDataFolder);
  return new OnnxModel(choice.value, modelPath, choice.provider, sizeBytes, choice.skipped, options);
}

/**
 * Bytes on disk of an ONNX model: the file plus the external data files it
 * names, read without creating a session (what a memory budget counts).
 */
export async function onnxModelSizeBytes(path: string, externalDataFolder?: string): Promise<number> {
  const modelPath = resolve(path);
  const size = await fileSize(modelPath);
  if (size === undefined) {
    throw new OnnxModelLoadError(`No ONNX model at ${modelPath}; check the path (and the subfolder, for a repo).`);
  }
  let sizeBytes = size;
  for (const location of new Set(await listExternalDataFiles(modelPath))) {
    const dataPath = resolve(externalDataFolder ?? dirname(modelPath), location);
    const dataSize = await fileSize(dataPath);
    if (dataSize === undefined) {
      throw new OnnxModelLoadError(
        `${modelPath} keeps its weights in '${location}', which is missing: download it into the same folder as the model.`,
      );
    }
    sizeBytes += dataSize;
  }
  return sizeBytes;
}

async function createSession(
  modelPath: string,
  device: Device,
  sessionOptions: LoadOnnxModelOptions['sessionOptions'],
  externalDataFolder?: string,
): Promise<ProviderChoice<ort.InferenceSession>> {
  const options = externalDataFolder
    ? withDefaultSessionOptions({ ...sessionOptions, extra: { ...sessionOptions?.extra, session: { ...(sessionOptions?.extra?.session as object | undefined), model_external_initializers_file_folder_path: externalDataFolder } } })
    : withDefaultSessionOptions(sessionOptions);
  // The graph alone is small (weights are external), so reading it costs little.
  const source = externalDataFolder ? await readFile(modelPath) : modelPath;
  return createWithProvider(device, (provider) =>
    typeof source === 'string'
      ? ort.InferenceSession.create(source, { ...options, executionProviders: [provider] })
      : ort.InferenceSession.create(source, { ...options, executionProviders: [provider] }),
  ).catch((error: unknown) => {
    if (error instanceof ExecutionProviderUnavailableError || error instanceof UnknownDeviceError) throw error;
    throw new OnnxModelLoadError(`onnxruntime could not load ${modelPath}: ${(error as Error).message}`);
  });
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
