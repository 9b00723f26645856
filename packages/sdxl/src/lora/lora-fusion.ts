/**
 * Fusing LoRA layers into a model's weights:
 *
 *   W' = W + sum over adapters of coefficient * (alpha / rank) * up @ down
 *
 * with up [out, rank] and down [rank, in * kernel] (a conv LoRA's down has
 * the layer's kernel and its up is 1x1, so the product is reshaped to the
 * weight's [out, in, kh, kw]); coefficient = the adapter's weight
 * (setAdapters) times its fuse scale (fuseLora's loraScale, 1 when not
 * fused). The sum is accumulated in float64 and rounded once.
 *
 * `loraWeightOverride` wraps this as the model builder's `weightOverride`,
 * whose id (part of the built-graph cache key) hashes the LoRA files'
 * contents, the layers used and the coefficients: the same adapters at the
 * same scales find the graph built before.
 */
import { createHash } from 'node:crypto';
import type { WeightOverride } from '@modular-diffusers/model-builder';
import { LoraLoadError } from './lora-errors.js';
import type { LoraLayer } from './lora-layers.js';

export interface WeightedLoraLayer {
  readonly layer: LoraLayer;
  readonly coefficient: number;
  /** The adapter it belongs to, for messages. */
  readonly adapterName: string;
  /** sha256 of the LoRA file's bytes, for the cache key. */
  readonly fileSha256: string;
  readonly filePath: string;
}

/** W' for one weight: `base` (float32, row-major `shape`) plus every contribution. */
export function fuseLoraLayers(base: Float32Array, shape: readonly number[], contributions: readonly WeightedLoraLayer[], safeFusing = false): Float32Array {
  const out = shape[0]!;
  const columns = base.length / out;
  const acc = Float64Array.from(base);
  for (const { layer, coefficient, adapterName, filePath } of contributions) {
    if (layer.up.shape[0] !== out || layer.down.data.length !== layer.rank * columns) {
      throw new LoraLoadError(`${filePath}: '${layer.down.key}' does not fit '${layer.weightKey}' [${shape.join(', ')}] (adapter '${adapterName}').`, filePath, layer.down.key);
    }
    const factor = coefficient * layer.scaling;
    const up = layer.up.data;
    const down = layer.down.data;
    const rank = layer.rank;
    for (let o = 0; o < out; o++) {
      const row = o * columns;
      for (let k = 0; k < rank; k++) {
        const u = factor * up[o * rank + k]!;
        if (u === 0) continue;
        const d = k * columns;
        for (let c = 0; c < columns; c++) acc[row + c]! += u * down[d + c]!;
      }
    }
  }
  const fused = Float32Array.from(acc);
  if (safeFusing) {
    for (let i = 0; i < fused.length; i++) {
      if (!Number.isFinite(fused[i]!)) {
        const culprit = contributions[0]!;
        throw new LoraLoadError(
          `Fusing adapter(s) ${[...new Set(contributions.map((c) => `'${c.adapterName}'`))].join(', ')} into '${culprit.layer.weightKey}' gives non-finite weights (safeFusing); the LoRA file ${culprit.filePath} is broken.`,
          culprit.filePath,
          culprit.layer.down.key,
        );
      }
    }
  }
  return fused;
}

/** The model builder's weightOverride for one model's contributions, keyed for the cache. */
export function loraWeightOverride(contributions: readonly WeightedLoraLayer[], safeFusing = false): WeightOverride {
  const byKey = new Map<string, WeightedLoraLayer[]>();
  for (const c of contributions) {
    const list = byKey.get(c.layer.weightKey) ?? [];
    list.push(c);
    byKey.set(c.layer.weightKey, list);
  }
  return {
    id: loraOverrideId(contributions),
    keys: new Set(byKey.keys()),
    compute: (key, base, shape) => fuseLoraLayers(base, shape, byKey.get(key)!, safeFusing),
  };
}

/** Which files, which layers, which coefficients (in order: the sum's rounding depends on it). */
export function loraOverrideId(contributions: readonly WeightedLoraLayer[]): string {
  const hash = createHash('sha256');
  for (const c of contributions) hash.update(`${c.fileSha256}|${c.layer.component}|${c.layer.down.key}|${c.coefficient}\n`);
  return `lora:${hash.digest('hex').slice(0, 32)}`;
}
