/**
 * SDXL's micro-conditioning: `time_ids` = original size + crop top-left +
 * target size (or + aesthetic score for the refiner), checked against the
 * size of the UNet's added embedding, and LCM's guidance-scale embedding.
 */
import type { Guider } from '@modular-diffusers/diffusion';
import { Tensor } from '@modular-diffusers/runtime';
import type { UNet2DConditionModel } from '../components/unet.js';
import { SdxlInputError } from '../errors.js';

/** What the micro-conditioning reads of the UNet: its config (null until loaded). */
export type UNetConfigSource = Pick<UNet2DConditionModel, 'config'> | null | undefined;

export type Pair = readonly [number, number];

/** A (height, width) or (top, left) pair given as a 2-list. */
export function pairOf(value: unknown, name: string): Pair {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return [value[0], value[1]];
  throw new SdxlInputError(`\`${name}\` must be a pair of numbers such as [1024, 1024], got ${JSON.stringify(value)}.`);
}

/**
 * Throws diffusers' messages when `addition_time_embed_dim * ids + pooled dim`
 * differs from what the UNet's add embedding takes (its
 * `projection_class_embeddings_input_dim`): the usual cause is a refiner run
 * without `requires_aesthetics_score`, or a base model with it.
 */
export function checkAddEmbedDim(unet: UNetConfigSource, idCount: number, projectionDim: number, aesthetics: { score: number; target: Pair } | null): void {
  const config = unet?.config ?? null;
  const timeDim = config?.addition_time_embed_dim;
  const expected = config?.projection_class_embeddings_input_dim;
  if (typeof timeDim !== 'number' || typeof expected !== 'number') return;
  const passed = timeDim * idCount + projectionDim;
  if (expected === passed) return;
  const prefix = `Model expects an added time embedding vector of length ${expected}, but a vector of ${passed} was created.`;
  if (expected > passed && expected - passed === timeDim) {
    throw new SdxlInputError(`${prefix} Please make sure to enable \`requires_aesthetics_score\` with pipeline.updateComponents({ requires_aesthetics_score: true }) so \`aesthetic_score\` is used by the model.`);
  }
  if (expected < passed && passed - expected === timeDim) {
    throw new SdxlInputError(
      `${prefix} Please make sure to disable \`requires_aesthetics_score\` with pipeline.updateComponents({ requires_aesthetics_score: false }) so \`target_size\` ${JSON.stringify(aesthetics?.target ?? null)} is used by the model.`,
    );
  }
  throw new SdxlInputError(`${prefix} The model has an incorrect config. Please check \`unet.config.time_embedding_type\` and \`text_encoder_2.config.projection_dim\`.`);
}

/** One row of ids repeated for every image of the final batch: [rows, ids.length] float32. */
export function timeIdsTensor(ids: readonly number[], rows: number): Tensor<'float32'> {
  const data = new Float32Array(rows * ids.length);
  for (let r = 0; r < rows; r++) data.set(ids, r * ids.length);
  return new Tensor('float32', data, [rows, ids.length]);
}

/**
 * LCM's guidance-scale embedding (diffusers' get_guidance_scale_embedding):
 * for w' = 1000 w, [sin(w' f_k), cos(w' f_k)] with f_k = exp(-k ln(10000) / (d/2 - 1)),
 * zero-padded to odd `dim`; float32 at every step, as torch computes it.
 */
export function guidanceScaleEmbedding(w: readonly number[], dim: number): Tensor<'float32'> {
  const f = Math.fround;
  const half = Math.floor(dim / 2);
  const step = f(f(Math.log(10000)) / (half - 1));
  const freqs = Array.from({ length: half }, (_, k) => f(Math.exp(f(k * -step))));
  const data = new Float32Array(w.length * dim);
  w.forEach((value, row) => {
    const scaled = f(value * 1000);
    for (let k = 0; k < half; k++) {
      const arg = f(scaled * freqs[k]!);
      data[row * dim + k] = Math.sin(arg);
      data[row * dim + half + k] = Math.cos(arg);
    }
  });
  return new Tensor('float32', data, [w.length, dim]);
}

/** `timestep_cond` for UNets with `time_cond_proj_dim` (LCM-distilled), else null. */
export function timestepCond(unet: UNetConfigSource, guider: Pick<Guider, 'guidanceScale'> | null | undefined, rows: number): Tensor<'float32'> | null {
  const dim = unet?.config?.time_cond_proj_dim;
  if (typeof dim !== 'number') return null;
  const guidanceScale = guider?.guidanceScale ?? 7.5;
  return guidanceScaleEmbedding(new Array<number>(rows).fill(guidanceScale - 1), dim);
}
