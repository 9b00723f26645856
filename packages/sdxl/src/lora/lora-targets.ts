/** A model's weight shapes and config as a LoraTarget, from its diffusers-format folder (headers only). */
import { WeightSet } from '@modular-diffusers/model-builder';
import type { LoraTarget } from './lora-layers.js';

export async function loraTargetFromFolder(
  folder: string,
  variant: string | null,
  config: Readonly<Record<string, unknown>>,
  description: string,
): Promise<LoraTarget> {
  const paths = await WeightSet.find(folder, variant);
  const weights = await WeightSet.open(paths ?? []);
  const weightShapes = new Map<string, readonly number[]>();
  for (const header of weights.files) for (const [key, info] of header.tensors) weightShapes.set(key, info.shape);
  return { description, weightShapes, config };
}

/**
 * A built component's LoraTarget from the weight shapes its graphs bind (BuiltModel.weightShapes):
 * the same diffusers names whether the weights came from a folder or a single-file checkpoint.
 */
export function loraTargetFromShapes(
  shapes: Readonly<Record<string, readonly number[]>>,
  config: Readonly<Record<string, unknown>>,
  description: string,
): LoraTarget {
  return { description, weightShapes: new Map(Object.entries(shapes)), config };
}
