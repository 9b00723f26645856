/**
 * How each built graph's session was made (the builder's options, the graph and the session
 * options), remembered per OnnxModel, so a LoRA can rebuild the same component with fused
 * weights (buildModel's `weightOverride`) and open it the same way. A session opened from an
 * ONNX export has no recipe: its weights are fixed in the file.
 */
import { buildModel, type BuildModelOptions, type WeightOverride } from '@modular-diffusers/model-builder';
import { loadOnnxModel, type LoadOnnxModelOptions, type OnnxModel } from '@modular-diffusers/runtime';

export interface BuiltModelRecipe {
  /** The base build (never with a weightOverride). */
  readonly buildOptions: Omit<BuildModelOptions, 'signal' | 'weightOverride'>;
  readonly graph: string;
  readonly loadOptions: LoadOnnxModelOptions;
  /** Every bound weight's shape by its diffusers name (BuiltModel.weightShapes), what a LoRA is matched against. */
  readonly weightShapes: Readonly<Record<string, readonly number[]>>;
}

const recipes = new WeakMap<OnnxModel, BuiltModelRecipe>();
const overrides = new WeakMap<OnnxModel, WeightOverride>();

export function rememberBuiltModel(model: OnnxModel, recipe: BuiltModelRecipe, weightOverride: WeightOverride | null = null): void {
  recipes.set(model, recipe);
  if (weightOverride) overrides.set(model, weightOverride);
}

/** The fused weights (a LoRA) the model's graph was built with, or null for the base weights. */
export function builtModelOverride(model: OnnxModel): WeightOverride | null {
  return overrides.get(model) ?? null;
}

/** The recipe of a session opened from a built graph; undefined for an ONNX export. */
export function builtModelRecipe(model: OnnxModel): BuiltModelRecipe | undefined {
  return recipes.get(model);
}

/**
 * Builds (or finds in the built-graph cache) the recipe's graph with `weightOverride` (null: the
 * base graph) and opens it as the recipe's session was opened.
 */
export async function openRebuilt(
  recipe: BuiltModelRecipe,
  weightOverride: WeightOverride | null,
  signal?: AbortSignal,
  beforeOpen?: () => Promise<void>,
): Promise<{ model: OnnxModel; fromCache: boolean; buildMs: number }> {
  const built = await buildModel({ ...recipe.buildOptions, ...(weightOverride ? { weightOverride } : {}), ...(signal ? { signal } : {}) });
  await beforeOpen?.();
  const model = await loadOnnxModel(built.graphs[recipe.graph]!, { ...recipe.loadOptions, externalDataFolder: built.externalDataFolder });
  rememberBuiltModel(model, recipe, weightOverride);
  return { model, fromCache: built.fromCache, buildMs: built.buildMs };
}
