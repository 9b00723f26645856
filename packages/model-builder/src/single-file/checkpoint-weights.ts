/**
 * One component's weights inside a single-file checkpoint (the original
 * LDM/SGM layout that A1111 and ComfyUI users have: UNet, VAE and both text
 * encoders in one `.safetensors`, under their own key prefixes). Builders
 * `take` tensors by their diffusers/transformers names, as from a
 * component folder; a CheckpointKeyMapping says where each one lies in the
 * file. Renamed tensors, rows of a fused tensor (OpenCLIP's q/k/v
 * `in_proj_weight`) and 1x1 convolutions read as linear weights are all
 * byte ranges of the file, so they are referenced in place like any other
 * weight; only a transposed tensor (OpenCLIP's `text_projection`) has to be
 * materialised, and the build embeds it in the graph. Nothing is read but
 * the header.
 */
import { WeightMismatchError } from '../errors.js';
import type { SafetensorsHeader, SafetensorsTensorInfo } from '../safetensors/safetensors-file.js';
import { DTYPE_BYTES } from '../safetensors/safetensors-file.js';
import type { WeightRef } from '../safetensors/weight-set.js';

/** Where one diffusers tensor lies in the checkpoint. */
export interface CheckpointTensor {
  /** The tensor's name in the checkpoint. */
  readonly key: string;
  /** Rows [start, end) of the tensor's first axis (one of a fused q/k/v projection's parts). */
  readonly rows?: readonly [number, number];
  /** The checkpoint holds the transpose of the 2-D weight diffusers uses (OpenCLIP's `text_projection`). */
  readonly transposed?: boolean;
}

/** How one component's diffusers names map onto a checkpoint's keys. */
export interface CheckpointKeyMapping {
  /** Names the mapping and its version, for the built-graph cache key. */
  readonly id: string;
  /** What the component is, for messages ('the UNet', 'text encoder 2 (OpenCLIP-bigG)'). */
  readonly what: string;
  /** The component's key prefix in the checkpoint (`model.diffusion_model.`): the tensors under it are the component's. */
  readonly prefix: string;
  /** Where diffusers' tensor `key` lies in the checkpoint, or null when the layout has no place for it. */
  locate(key: string): CheckpointTensor | null;
  /** Tensors under the prefix the component does not use by design (OpenCLIP's `logit_scale`). */
  readonly ignored?: ReadonlySet<string>;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export class CheckpointWeights {
  private readonly used = new Set<string>();
  readonly files: readonly SafetensorsHeader[];

  constructor(
    readonly header: SafetensorsHeader,
    readonly mapping: CheckpointKeyMapping,
  ) {
    this.files = [header];
  }

  has(key: string): boolean {
    const place = this.mapping.locate(key);
    return place !== null && this.header.tensors.has(place.key);
  }

  /** diffusers' tensor `key`, checked against `shape` (null: any shape). */
  take(key: string, shape: readonly number[] | null): WeightRef {
    const place = this.mapping.locate(key);
    const path = this.header.path;
    if (!place) {
      throw new WeightMismatchError(`${path}: ${this.mapping.what} needs '${key}', which the original checkpoint layout has no place for; the config does not describe this checkpoint.`, path, key);
    }
    const source = this.header.tensors.get(place.key);
    if (!source) {
      throw new WeightMismatchError(
        `${path} has no tensor '${place.key}' (${this.mapping.what}'s '${key}'); the checkpoint is incomplete, ` +
          `or its config does not match it (pass the config of the model it was trained as).`,
        path,
        place.key,
      );
    }
    if (!FLOAT_DTYPES.has(source.dtype)) {
      throw new WeightMismatchError(`Tensor '${place.key}' in ${path} is ${source.dtype}; the builder needs F32, F16 or BF16.`, path, place.key);
    }
    const info = this.view(source, place, key);
    let fitted = info;
    if (shape && !sameShape(shape, info.shape)) {
      // The LDM VAE's attention projections are 1x1 convolutions: the same bytes as diffusers' linear weights.
      if (!sameShape(trimOnes(shape), trimOnes(info.shape))) {
        throw new WeightMismatchError(
          `Tensor '${place.key}' in ${path} (${this.mapping.what}'s '${key}') has shape [${info.shape.join(', ')}] but the config needs ` +
            `[${shape.join(', ')}]; the config does not match this checkpoint (pass { config } naming the model it belongs to).`,
          path,
          place.key,
        );
      }
      fitted = { ...info, shape: [...shape] };
    }
    this.used.add(place.key);
    return place.transposed ? { key, info: fitted, file: this.header, transposeOf: source } : { key, info: fitted, file: this.header };
  }

  /** Float tensors under the component's prefix that no builder took (and the mapping does not ignore). */
  unusedKeys(): string[] {
    const unused: string[] = [];
    for (const [name, info] of this.header.tensors) {
      if (!name.startsWith(this.mapping.prefix) || this.used.has(name) || this.mapping.ignored?.has(name)) continue;
      if (FLOAT_DTYPES.has(info.dtype)) unused.push(name);
    }
    return unused;
  }

  describeFiles(): string {
    return `${this.header.path} (${this.mapping.what}, keys '${this.mapping.prefix}*')`;
  }

  private view(source: SafetensorsTensorInfo, place: CheckpointTensor, key: string): SafetensorsTensorInfo {
    if (place.transposed) {
      if (source.shape.length !== 2) {
        throw new WeightMismatchError(`Tensor '${place.key}' in ${this.header.path} has shape [${source.shape.join(', ')}]; ${this.mapping.what}'s '${key}' is its transpose, so it must be 2-D.`, this.header.path, place.key);
      }
      return { ...source, shape: [source.shape[1]!, source.shape[0]!] };
    }
    if (!place.rows) return source;
    const [start, end] = place.rows;
    const total = source.shape[0] ?? 0;
    if (source.shape.length === 0 || end > total || start < 0 || start >= end) {
      throw new WeightMismatchError(
        `Tensor '${place.key}' in ${this.header.path} has shape [${source.shape.join(', ')}], too few rows for ${this.mapping.what}'s '${key}' ` +
          `(rows ${start}..${end}); the config's sizes do not match this checkpoint.`,
        this.header.path,
        place.key,
      );
    }
    const rowBytes = source.shape.slice(1).reduce((a, b) => a * b, 1) * DTYPE_BYTES[source.dtype];
    return {
      name: source.name,
      dtype: source.dtype,
      shape: [end - start, ...source.shape.slice(1)],
      fileOffset: source.fileOffset + start * rowBytes,
      byteLength: (end - start) * rowBytes,
    };
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function trimOnes(shape: readonly number[]): number[] {
  const out = [...shape];
  while (out.length > 1 && out[out.length - 1] === 1) out.pop();
  return out;
}
