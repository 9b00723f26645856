/**
 * Guidance batching for the SDXL denoisers. The guider decides how many
 * conditions a step runs (1 without guidance, 2 for CFG) and which field
 * values each one sees; here those per-condition batches are concatenated
 * along the batch axis so the UNet (and ControlNet) run ONCE per step on
 * B x conditions rows, and the prediction is split back per condition for
 * the guider to combine.
 */
import { InvalidArgumentError } from '@modular-diffusers/core';
import { Tensor, concat, hasDType, repeatInterleave, split } from '@modular-diffusers/runtime';
import type { Guider, GuiderBatch, GuiderInputValue } from '@modular-diffusers/diffusion';

/** UNet input -> the (conditional, unconditional) block-state fields that feed it (diffusers' guider_input_fields). */
export const SDXL_GUIDER_FIELDS = {
  prompt_embeds: ['prompt_embeds', 'negative_prompt_embeds'],
  time_ids: ['add_time_ids', 'negative_add_time_ids'],
  text_embeds: ['pooled_prompt_embeds', 'negative_pooled_prompt_embeds'],
  image_embeds: ['ip_adapter_embeds', 'negative_ip_adapter_embeds'],
} as const;

export type GuidedInputName = keyof typeof SDXL_GUIDER_FIELDS;

/** The step's conditions stacked into one batch. */
export interface StackedConditions {
  batches: GuiderBatch[];
  /** Rows per condition (the latents' batch B). */
  rows: number;
  /** Each guided input concatenated over the conditions: [B x conditions, ...]; image_embeds null without IP-Adapter. */
  inputs: { prompt_embeds: Tensor; time_ids: Tensor; text_embeds: Tensor; image_embeds: Tensor | null };
}

/**
 * Asks the guider for this step's conditions (after `guider.setState`) and
 * stacks them. `values` holds the block-state fields (prompt_embeds, ...).
 * A condition without IP-Adapter embeddings gets zeros, as diffusers'
 * unconditional image embeddings are; a missing text field is an error
 * naming it.
 */
export function stackGuiderConditions(guider: Guider, values: Record<string, unknown>, rows: number): StackedConditions {
  const data: Record<string, GuiderInputValue> = {};
  for (const [input, [cond, uncond]] of Object.entries(SDXL_GUIDER_FIELDS)) {
    const align = input === 'image_embeds' ? (v: unknown, f: string) => ipAdapterEmbeds(v, f, rows) : (v: unknown, f: string) => batchTensor(v, f, rows);
    data[input] = [align(values[cond], cond), align(values[uncond], uncond)];
  }
  const batches = guider.prepareInputs(data);
  const pick = (input: GuidedInputName): Tensor[] =>
    batches.map((batch, k) => {
      const value = batch.inputs[input];
      if (value) return value;
      const [cond, uncond] = SDXL_GUIDER_FIELDS[input];
      const field = k === 0 ? cond : uncond;
      throw new InvalidArgumentError(
        `The guider runs ${batches.length} condition(s) this step but '${field}' is missing for the ${batch.identifier} batch. ` +
          `Let the text encoder / prepare_add_cond steps produce it (they compute negatives when guider.numConditions > 1), or pass it in.`,
      );
    });
  const stackedImage = (): Tensor | null => {
    const present = batches.map((b) => b.inputs.image_embeds ?? null);
    const first = present.find((t) => t !== null);
    if (!first) return null;
    return concatOnce(present.map((t) => t ?? zerosLike(first)));
  };
  const cat = (input: GuidedInputName) => concatOnce(pick(input));
  return {
    batches,
    rows,
    inputs: { prompt_embeds: cat('prompt_embeds'), time_ids: cat('time_ids'), text_embeds: cat('text_embeds'), image_embeds: stackedImage() },
  };
}

/**
 * The conditions are the same tensors at every step of a run, so their concatenation is kept
 * (keyed weakly by the first part) and reused while the parts are the very same objects:
 * re-stacking [2, 77, 2048] embeddings every step would be the loop's largest copy.
 */
const stackedByFirstPart = new WeakMap<Tensor, { parts: readonly Tensor[]; stacked: Tensor }>();

function concatOnce(parts: Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const kept = stackedByFirstPart.get(parts[0]!);
  if (kept && kept.parts.length === parts.length && kept.parts.every((part, k) => part === parts[k])) return kept.stacked;
  const stacked = joinAdjacentViews(parts) ?? concat(parts);
  stackedByFirstPart.set(parts[0]!, { parts, stacked });
  return stacked;
}

/**
 * Parts that are consecutive views of one buffer (the text encoder step lays
 * out [prompt; zero negative] that way) are already their concatenation
 * along the batch axis: one view over them all, no copy. The stack is only
 * read (it is a model input), so sharing the parts' memory is safe.
 */
function joinAdjacentViews(parts: readonly Tensor[]): Tensor<'float32'> | null {
  // The joined view is a Float32Array, so only float32 parts can share one.
  if (!parts.every((part) => hasDType(part, 'float32'))) return null;
  const first = parts[0]!.data;
  const rest = parts[0]!.shape.slice(1);
  let end = first.byteOffset;
  let rows = 0;
  for (const part of parts) {
    const data = part.data;
    if (data.buffer !== first.buffer || data.byteOffset !== end || part.rank !== rest.length + 1 || part.shape.some((d, i) => i > 0 && d !== rest[i - 1])) return null;
    end += data.byteLength;
    rows += part.shape[0]!;
  }
  const data = new Float32Array(first.buffer, first.byteOffset, (end - first.byteOffset) / Float32Array.BYTES_PER_ELEMENT);
  return new Tensor('float32', data, [rows, ...rest]);
}

/** Zeros for a missing unconditional IP-Adapter embedding, one tensor per shape (read-only by convention). */
const zerosByShape = new Map<string, Tensor<'float32'>>();

function zerosLike(t: Tensor): Tensor<'float32'> {
  const key = t.shape.join('x');
  let zeros = zerosByShape.get(key);
  if (!zeros) {
    zeros = Tensor.zeros('float32', t.shape);
    zerosByShape.set(key, zeros);
  }
  return zeros;
}

/**
 * Where a step's stacked tensor is built when the caller lets it be reused:
 * `owner` lives as long as the run (the loop's block state), `slot` names
 * the input. The UNet input is rebuilt at the same size every step, and a
 * fresh half-megabyte buffer per step costs more (allocation, first-touch
 * page faults, collection) than filling the one from the step before.
 */
export interface StackingScratch {
  owner: object;
  slot: string;
}

const scratchByOwner = new WeakMap<object, Map<string, Tensor>>();

/**
 * `t` repeated once per condition along the batch axis: what the stacked
 * conditions pair with. With `scratch`, the result is written into the
 * buffer the same slot used at the previous step (same dtype and shape),
 * so it is only valid until the next call with that slot: pass it to the
 * model and let it go.
 */
export function repeatForConditions<D extends Tensor['dtype']>(t: Tensor<D>, conditions: number, scratch?: StackingScratch): Tensor<D> {
  if (conditions === 1) return t;
  if (!scratch) return concat(new Array<Tensor<D>>(conditions).fill(t));
  let slots = scratchByOwner.get(scratch.owner);
  if (!slots) scratchByOwner.set(scratch.owner, (slots = new Map()));
  const rows = t.shape[0]! * conditions;
  const kept = slots.get(scratch.slot);
  if (!kept || !hasDType(kept, t.dtype) || kept.shape[0] !== rows || kept.shape.some((d, i) => i > 0 && d !== t.shape[i])) {
    const stacked = concat(new Array<Tensor<D>>(conditions).fill(t));
    slots.set(scratch.slot, stacked);
    return stacked;
  }
  const target = kept.data as unknown as { set(source: ArrayLike<unknown>, offset: number): void };
  const length = t.data.length;
  for (let k = 0; k < conditions; k++) target.set(t.data as ArrayLike<unknown>, k * length);
  return kept;
}


/** Splits the stacked prediction per condition into the batches and lets the guider combine them. */
export function combineGuidedPrediction(guider: Guider, stacked: StackedConditions, prediction: Tensor): Tensor<'float32'> {
  const parts = split(prediction, stacked.rows, 0);
  stacked.batches.forEach((batch, k) => {
    batch.noisePred = parts[k];
  });
  return guider.call(stacked.batches).pred;
}

function batchTensor(value: unknown, field: string, rows: number): Tensor | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Tensor)) {
    throw new InvalidArgumentError(`'${field}' must be a Tensor, got ${describe(value)}.`);
  }
  if (value.shape[0] !== rows) {
    throw new InvalidArgumentError(
      `'${field}' has ${value.shape[0]} batch rows but the latents have ${rows}; ` +
        `the input step expands embeddings to batch_size x num_images_per_prompt, so run it (or pass matching tensors).`,
    );
  }
  return value;
}

/**
 * IP-Adapter embeddings as diffusers keeps them: a list with one tensor per
 * adapter, [B or 1, 1, D] (or [B, D]). ONNX UNet exports take one adapter;
 * a batch of one is repeated to the latents' batch.
 */
function ipAdapterEmbeds(value: unknown, field: string, rows: number): Tensor | null {
  if (value === null || value === undefined) return null;
  let tensor: unknown = value;
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    if (value.length > 1) {
      throw new InvalidArgumentError(
        `'${field}' holds ${value.length} IP-Adapter embeddings, but an ONNX UNet export takes one adapter; pass a single ip_adapter_image.`,
      );
    }
    tensor = value[0];
  }
  if (!(tensor instanceof Tensor)) throw new InvalidArgumentError(`'${field}' must be a Tensor or a list of one Tensor, got ${describe(tensor)}.`);
  const have = tensor.shape[0]!;
  if (have === rows) return tensor;
  if (have > 0 && rows % have === 0) return repeatInterleave(tensor, rows / have, 0);
  throw new InvalidArgumentError(`'${field}' has ${have} batch rows, which does not divide the latents' batch of ${rows}.`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? (value as object).constructor?.name ?? 'an object' : typeof value;
}
