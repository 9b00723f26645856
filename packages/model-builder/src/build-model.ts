/**
 * From a component folder (config.json + safetensors) to ONNX files a
 * session can open, through the built-graph cache:
 * `<modularDiffusersHome()>/built-graphs/<key>/` holds `<graph>.onnx` per
 * graph, `weights.f32.bin` when half-precision weights were converted, and
 * `manifest.json`, written last. The key hashes the builder version, the
 * class, the config, the options and every weight file's identity (its
 * header's sha256, its size, and the Hugging Face blob name or the file's
 * mtime), so a second load skips the build and a changed file rebuilds.
 * The entry is built in a temporary folder and renamed into place: an
 * error, a kill or a concurrent build never leaves a half-written entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { modularDiffusersHome } from '@modular-diffusers/core';
import { ModelProto } from '@modular-diffusers/runtime';
import { ModelBuildError, WeightMismatchError } from './errors.js';
import { ModelGraph } from './graph/model-graph.js';
import { WeightBinder, type WeightPlacement } from './graph/weight-binder.js';
import { modelClassDefinition } from './model-classes.js';
import type { UNetExtensions } from './builders/unet-2d-condition.js';
import { bfloat16ToFloat32Into, float16ToFloat32Into } from './graph/half-precision.js';
import { WeightSet, WEIGHT_BASE_NAMES, type WeightRef } from './safetensors/weight-set.js';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors/safetensors-file.js';
import { CheckpointWeights, type CheckpointKeyMapping } from './single-file/checkpoint-weights.js';

/** Bump when a builder's output changes, so old cache entries are not reused. */
export const BUILDER_VERSION = 2;

export interface BuildModelOptions {
  /** The component folder: config.json and the safetensors weights (optional when `config` and `checkpoint` say both). */
  readonly folder?: string;
  /** The config itself instead of `<folder>/config.json`; `file` names where it came from, for messages. */
  readonly config?: { readonly values: Readonly<Record<string, unknown>>; readonly file: string };
  /**
   * Take the weights from one single-file checkpoint through a key mapping instead of the folder's
   * safetensors: they are referenced in place (sliced ones too); only transposed ones are embedded.
   */
  readonly checkpoint?: { readonly file: string; readonly mapping: CheckpointKeyMapping };
  /** The weights variant, e.g. 'fp16' for `*.fp16.safetensors` (default: the plain files). */
  readonly variant?: string | null;
  /** Keep fp16/bf16 weights as they are (for a provider that runs half precision); default: convert to float32. */
  readonly keepHalfPrecision?: boolean;
  /** Use onnxruntime's contrib fused operators (default true); false builds plain ONNX ops only. */
  readonly fusedOps?: boolean;
  /** Where built graphs are cached (default `<modularDiffusersHome()>/built-graphs`). */
  readonly cacheDir?: string;
  /** UNet extension points (ControlNet residual inputs, cross-attention hooks). A hook needs `extensionId`. */
  readonly unet?: UNetExtensions;
  /** Names what the extensions add, for the cache key (required with a crossAttentionHook or declareInputs). */
  readonly extensionId?: string;
  /**
   * More safetensors files whose tensors the extensions take (an IP-Adapter's); every tensor in
   * them must be used, and their headers are part of the cache key. Weights in another folder
   * than the component's mean a float32 copy of all of them (onnxruntime reads external data
   * from one folder).
   */
  readonly extraWeightFiles?: readonly string[];
  /** Weights computed from the checkpoint's own (fused LoRAs), stored in the graph; the rest stay in place. */
  readonly weightOverride?: WeightOverride;
  readonly signal?: AbortSignal;
}

/**
 * Replaces some weights by values computed from them, e.g. a LoRA fused
 * into the UNet: W' = W + scale * up @ down. `compute` gets the float32
 * base weight (converted from fp16/bf16 if need be) and returns W'.
 */
export interface WeightOverride {
  /** Identifies the override for the cache key (e.g. the LoRA files' hashes and scales). */
  readonly id: string;
  readonly keys: ReadonlySet<string>;
  compute(key: string, base: Float32Array, shape: readonly number[]): Promise<Float32Array> | Float32Array;
}

export interface BuiltModel {
  readonly className: string;
  /** ONNX file per graph name ('model', or 'encoder' and 'decoder'). */
  readonly graphs: Readonly<Record<string, string>>;
  /** The folder the graphs' external data is resolved in (pass to loadOnnxModel as `externalDataFolder`). */
  readonly externalDataFolder: string;
  readonly placement: WeightPlacement;
  readonly weightFiles: readonly string[];
  /**
   * The shape of every weight the graphs bind, by its diffusers name (also for a single-file
   * checkpoint, whose own names differ): what an adapter (a LoRA) is matched against.
   */
  readonly weightShapes: Readonly<Record<string, readonly number[]>>;
  readonly cacheEntry: string;
  /** True when the entry was already there (no build). */
  readonly fromCache: boolean;
  /** Milliseconds spent building (0 from the cache). */
  readonly buildMs: number;
}

interface Manifest {
  readonly builderVersion: number;
  readonly className: string;
  readonly graphs: Record<string, string>;
  readonly placement: WeightPlacement;
  /** Absolute for in-place weights; '.' for the entry folder itself. */
  readonly externalDataFolder: string;
  readonly weightFiles: string[];
  readonly weightShapes: Record<string, number[]>;
}

export function defaultBuiltGraphsDir(): string {
  return join(modularDiffusersHome(), 'built-graphs');
}

/** Whether `folder` holds weights the builder can use for `variant` (config.json + safetensors). */
export async function hasBuildableWeights(folder: string, variant: string | null = null): Promise<boolean> {
  if (!(await isFile(join(folder, 'config.json')))) return false;
  return (await WeightSet.find(folder, variant)) !== null;
}

/** What a build takes its weights from: a component folder's safetensors, or one component of a checkpoint. */
type BuildWeights = (WeightSet | CheckpointWeights) & { readonly files: readonly SafetensorsHeader[] };

export async function buildModel(options: BuildModelOptions): Promise<BuiltModel> {
  const folder = options.folder ?? null;
  const variant = options.variant ?? null;
  if (folder === null && (!options.config || !options.checkpoint)) {
    throw new ModelBuildError('buildModel: pass the component folder, or both its config and a checkpoint to take the weights from.');
  }
  const configFile = options.config?.file ?? join(folder!, 'config.json');
  const config = options.config ? { ...options.config.values } : await readConfig(configFile);
  const className = classNameOf(config, configFile);
  const definition = modelClassDefinition(className, configFile);
  if ((options.unet?.crossAttentionHook || options.unet?.declareInputs) && !options.extensionId) {
    throw new ModelBuildError('buildModel: a UNet crossAttentionHook or declareInputs needs an extensionId naming what it adds (it is part of the cache key).');
  }
  if (options.checkpoint && options.extraWeightFiles?.length) {
    throw new ModelBuildError(
      `buildModel: adapter weights (${options.extraWeightFiles.join(', ')}) cannot yet be built into a component taken from the single-file checkpoint ${options.checkpoint.file}; ` +
        `load the component from a diffusers-format folder to add them.`,
      options.checkpoint.file,
    );
  }
  const weights: BuildWeights = options.checkpoint
    ? new CheckpointWeights(await readSafetensorsHeader(options.checkpoint.file), options.checkpoint.mapping)
    : await openFolderWeights(folder!, variant, options.extraWeightFiles ?? []);
  const keepHalf = options.keepHalfPrecision ?? false;
  const fused = options.fusedOps ?? true;
  const key = await cacheKey(
    {
      className, config, variant, keepHalf, fused, controlNet: !!options.unet?.controlNetResiduals, extensionId: options.extensionId ?? null, weightOverride: options.weightOverride?.id ?? null,
      ...(options.checkpoint ? { checkpointMapping: options.checkpoint.mapping.id } : {}),
    },
    weights,
  );
  const cacheDir = options.cacheDir ?? defaultBuiltGraphsDir();
  const entry = join(cacheDir, key);

  const cached = await readManifest(entry);
  if (cached) return builtFrom(entry, cached, true, 0);

  const started = performance.now();
  const binder = await WeightBinder.plan(weights.files.map((f) => ({ path: f.path, dtypes: new Set([...f.tensors.values()].map((t) => t.dtype)) })), keepHalf);
  const encoded: Array<[string, Uint8Array]> = [];
  const overridden = new Set<string>();
  const weightShapes: Record<string, number[]> = {};
  for (const graphName of definition.graphs) {
    options.signal?.throwIfAborted();
    const graph = new ModelGraph(`${className}.${graphName}`, weights, binder, { fused });
    definition.build(graph, graphName, { config, configFile, layerOptions: { fused }, unet: options.unet });
    for (const [weightKey, ref] of graph.takenWeights()) {
      weightShapes[weightKey] = [...ref.info.shape];
      if (ref.transposeOf) graph.embedWeight(weightKey, transpose2d(await readFloat32({ ...ref, info: ref.transposeOf }), ref.transposeOf.shape));
    }
    if (options.weightOverride) {
      for (const [weightKey, ref] of graph.takenWeights()) {
        if (!options.weightOverride.keys.has(weightKey)) continue;
        const base = ref.transposeOf ? transpose2d(await readFloat32({ ...ref, info: ref.transposeOf }), ref.transposeOf.shape) : await readFloat32(ref);
        const values = await options.weightOverride.compute(weightKey, base, ref.info.shape);
        if (values.length !== ref.info.byteLength / (ref.info.dtype === 'F32' ? 4 : 2)) {
          throw new ModelBuildError(`weightOverride '${options.weightOverride.id}' returned ${values.length} values for '${weightKey}' of shape [${ref.info.shape.join(', ')}].`, ref.file.path, weightKey);
        }
        graph.embedWeight(weightKey, values);
        overridden.add(weightKey);
      }
    }
    encoded.push([graphName, ModelProto.encode(ModelProto.fromObject(graph.toModelProto())).finish()]);
  }
  for (const wanted of options.weightOverride?.keys ?? []) {
    if (!overridden.has(wanted)) {
      throw new WeightMismatchError(`weightOverride '${options.weightOverride!.id}' names '${wanted}', which the ${className} graph does not use; check the adapter's key mapping.`, weights.files[0]!.path, wanted);
    }
  }
  const unused = weights.unusedKeys();
  if (unused.length > 0) {
    throw new WeightMismatchError(
      `${weights.describeFiles()} has ${unused.length} weight(s) the ${className} config does not use (${unused.slice(0, 5).map((k) => `'${k}'`).join(', ')}${unused.length > 5 ? ', ...' : ''}); ` +
        `the weights are misnamed or belong to another config.`,
      weights.files[0]!.path,
      unused[0]!,
    );
  }

  await mkdir(cacheDir, { recursive: true });
  const temp = join(cacheDir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp);
  try {
    const graphs: Record<string, string> = {};
    for (const [graphName, bytes] of encoded) {
      graphs[graphName] = `${graphName}.onnx`;
      await writeFile(join(temp, `${graphName}.onnx`), bytes);
    }
    await binder.writeConverted(temp, options.signal);
    const manifest: Manifest = {
      builderVersion: BUILDER_VERSION,
      className,
      graphs,
      placement: binder.placement,
      externalDataFolder: binder.externalDataFolder ?? '.',
      weightFiles: weights.files.map((f) => f.path),
      weightShapes,
    };
    await writeFile(join(temp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(temp, entry);
    } catch (error) {
      // Another process finished the same entry first: theirs is as good as ours.
      if (!(await readManifest(entry))) throw error;
      await rm(temp, { recursive: true, force: true });
    }
    return builtFrom(entry, manifest, false, performance.now() - started);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function openFolderWeights(folder: string, variant: string | null, extraFiles: readonly string[]): Promise<WeightSet> {
  const paths = await WeightSet.find(folder, variant);
  if (!paths) {
    const names = WEIGHT_BASE_NAMES.map((b) => `${b}${variant ? `.${variant}` : ''}.safetensors`).join(' or ');
    throw new WeightMismatchError(
      `No ${names} (or a sharded index of them) in ${folder}${variant ? `; drop variant '${variant}' if the folder has only the plain weights` : ''}.`,
      folder,
    );
  }
  return WeightSet.open([...paths, ...extraFiles]);
}

/** The transpose of a row-major [rows, cols] matrix. */
function transpose2d(values: Float32Array, shape: readonly number[]): Float32Array {
  const [rows, cols] = shape as [number, number];
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** One weight as float32 (widened from fp16/bf16). */
async function readFloat32(ref: WeightRef): Promise<Float32Array> {
  const handle = await open(ref.file.path, 'r');
  try {
    const raw = Buffer.alloc(ref.info.byteLength);
    await handle.read(raw, 0, raw.length, ref.info.fileOffset);
    const bytes = new Uint8Array(raw).buffer;
    if (ref.info.dtype === 'F32') return new Float32Array(bytes);
    const out = new Float32Array(raw.length / 2);
    if (ref.info.dtype === 'F16') float16ToFloat32Into(new Uint16Array(bytes), out);
    else bfloat16ToFloat32Into(new Uint16Array(bytes), out);
    return out;
  } finally {
    await handle.close();
  }
}

function builtFrom(entry: string, manifest: Manifest, fromCache: boolean, buildMs: number): BuiltModel {
  return {
    className: manifest.className,
    graphs: Object.fromEntries(Object.entries(manifest.graphs).map(([name, file]) => [name, join(entry, file)])),
    externalDataFolder: manifest.externalDataFolder === '.' ? entry : manifest.externalDataFolder,
    placement: manifest.placement,
    weightFiles: manifest.weightFiles,
    weightShapes: manifest.weightShapes,
    cacheEntry: entry,
    fromCache,
    buildMs,
  };
}

async function readManifest(entry: string): Promise<Manifest | null> {
  try {
    const manifest = JSON.parse(await readFile(join(entry, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.builderVersion !== BUILDER_VERSION) return null;
    for (const file of Object.values(manifest.graphs)) if (!(await isFile(join(entry, file)))) return null;
    return manifest;
  } catch {
    return null;
  }
}

async function readConfig(configFile: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch {
    throw new ModelBuildError(`Missing ${configFile}: a diffusers-format component folder needs its config.json beside the safetensors.`, configFile);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ModelBuildError(`${configFile} is not valid JSON (${(error as Error).message}); fix or download it again.`, configFile);
  }
  throw new ModelBuildError(`${configFile} must hold a JSON object.`, configFile);
}

function classNameOf(config: Record<string, unknown>, configFile: string): string {
  if (typeof config._class_name === 'string') return config._class_name;
  const architectures = config.architectures;
  if (Array.isArray(architectures) && typeof architectures[0] === 'string') return architectures[0];
  throw new ModelBuildError(`${configFile} names no model class ('_class_name' or 'architectures'); the builder cannot tell what to build.`, configFile, '_class_name');
}

async function cacheKey(parts: Record<string, unknown>, weights: { readonly files: readonly SafetensorsHeader[] }): Promise<string> {
  const files = [];
  for (const file of weights.files) {
    const real = await realpath(file.path);
    const info = await stat(real);
    const blob = basename(real);
    // A Hugging Face cache blob is named by its content's sha256; elsewhere the mtime stands in for it.
    const identity = /^[0-9a-f]{64}$/.test(blob) ? blob : `mtime:${info.mtimeMs}`;
    files.push({ name: basename(file.path), size: file.fileSize, header: createHash('sha256').update(file.headerBytes).digest('hex'), identity });
  }
  const text = canonicalJson({ builderVersion: BUILDER_VERSION, ...parts, files });
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
