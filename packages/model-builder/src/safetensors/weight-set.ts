/**
 * The weights of one component folder, as diffusers and transformers name
 * them: `<base>[.<variant>].safetensors`, or shards listed by
 * `<base>[.<variant>].safetensors.index.json` (transformers also writes
 * `<base>.safetensors.index.<variant>.json`). Builders `take` tensors by key
 * with the shape they need; a missing key, a wrong shape or dtype is an
 * error naming the file and the key. Nothing is read but the headers.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WeightMismatchError } from '../errors.js';
import { readSafetensorsHeader, type SafetensorsHeader, type SafetensorsTensorInfo } from './safetensors-file.js';

/** The file names weights live under: diffusers models, then transformers models. */
export const WEIGHT_BASE_NAMES = ['diffusion_pytorch_model', 'model'] as const;

export interface WeightRef {
  readonly key: string;
  readonly info: SafetensorsTensorInfo;
  readonly file: SafetensorsHeader;
  /**
   * Set when the file holds the transpose of the 2-D weight (a single-file checkpoint's
   * OpenCLIP `text_projection`): its bytes cannot be referenced in place, the build embeds them.
   */
  readonly transposeOf?: SafetensorsTensorInfo;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export class WeightSet {
  private readonly used = new Set<string>();

  private constructor(
    readonly folder: string,
    readonly files: readonly SafetensorsHeader[],
    private readonly byKey: ReadonlyMap<string, SafetensorsHeader>,
  ) {}

  /** The safetensors files of `folder` for `variant` (null: the plain files), or null when it has none. */
  static async find(folder: string, variant: string | null = null): Promise<string[] | null> {
    const suffix = variant ? `.${variant}` : '';
    for (const base of WEIGHT_BASE_NAMES) {
      const single = join(folder, `${base}${suffix}.safetensors`);
      if (await isFile(single)) return [single];
      const indexNames = [`${base}${suffix}.safetensors.index.json`, ...(variant ? [`${base}.safetensors.index.${variant}.json`] : [])];
      for (const indexName of indexNames) {
        const index = join(folder, indexName);
        if (!(await isFile(index))) continue;
        let map: Record<string, string>;
        try {
          map = (JSON.parse(await readFile(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
        } catch (error) {
          throw new WeightMismatchError(`${index} is not valid JSON (${(error as Error).message}); download it again.`, index);
        }
        const shards = [...new Set(Object.values(map))].map((name) => join(folder, name));
        for (const shard of shards) {
          if (!(await isFile(shard))) {
            throw new WeightMismatchError(`${index} lists the shard ${basename(shard)}, which is missing from ${folder}; download it.`, index);
          }
        }
        return shards;
      }
    }
    return null;
  }

  static async open(paths: readonly string[]): Promise<WeightSet> {
    const files = await Promise.all(paths.map((p) => readSafetensorsHeader(p)));
    const byKey = new Map<string, SafetensorsHeader>();
    for (const file of files) {
      for (const key of file.tensors.keys()) {
        const other = byKey.get(key);
        if (other) throw new WeightMismatchError(`Tensor '${key}' is in both ${other.path} and ${file.path}; remove the stray shard.`, file.path, key);
        byKey.set(key, file);
      }
    }
    return new WeightSet(paths.length ? dirOf(paths[0]!) : '', files, byKey);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** The float tensor `key`, checked against `shape` (null: any shape). */
  take(key: string, shape: readonly number[] | null): WeightRef {
    const file = this.byKey.get(key);
    if (!file) {
      const near = this.nearest(key);
      throw new WeightMismatchError(
        `Missing weight '${key}' in ${this.describeFiles()}${near ? ` (is '${near}' meant? the names must be diffusers'/transformers' own)` : ''}; ` +
          `the config and the weights do not belong together, or the weights are misnamed.`,
        this.files[0]?.path ?? this.folder,
        key,
      );
    }
    const info = file.tensors.get(key)!;
    if (!FLOAT_DTYPES.has(info.dtype)) {
      throw new WeightMismatchError(`Weight '${key}' in ${file.path} is ${info.dtype}; the builder needs F32, F16 or BF16.`, file.path, key);
    }
    if (shape && (shape.length !== info.shape.length || shape.some((d, i) => d !== info.shape[i]))) {
      throw new WeightMismatchError(
        `Weight '${key}' in ${file.path} has shape [${info.shape.join(', ')}] but the config needs [${shape.join(', ')}]; ` +
          `the config.json and the weights do not match.`,
        file.path,
        key,
      );
    }
    this.used.add(key);
    return { key, info, file };
  }

  /** Float weights no builder took (int buffers such as position_ids are not weights). */
  unusedKeys(): string[] {
    return this.keys().filter((k) => !this.used.has(k) && FLOAT_DTYPES.has(this.byKey.get(k)!.tensors.get(k)!.dtype));
  }

  describeFiles(): string {
    return this.files.map((f) => f.path).join(', ');
  }

  private nearest(key: string): string | null {
    const keys = this.keys().filter((k) => !this.used.has(k));
    const parent = key.slice(0, key.lastIndexOf('.'));
    const tail = key.split('.').slice(-3).join('.');
    return (
      keys.find((k) => k.startsWith(key) || key.startsWith(k)) ??
      keys.find((k) => k.endsWith(tail)) ??
      keys.find((k) => k.startsWith(`${parent}.`)) ??
      null
    );
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
