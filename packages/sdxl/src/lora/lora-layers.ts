/**
 * Matches a LoRA file's layers to the modules of the models it adapts and
 * fixes each layer's scale, checking everything before any graph is built:
 * every layer needs both matrices, a module the model has, and shapes whose
 * product is that module's weight.
 *
 * The scale of a layer is alpha / rank (PEFT's `scaling`), where
 * - kohya files (and diffusers files with `<module>.alpha` tensors) give
 *   alpha per module; without it alpha = rank (scale 1), as kohya and
 *   diffusers both read such files;
 * - diffusers/PEFT files give the LoraConfig in the metadata
 *   (`<model>.r`, `<model>.lora_alpha`, `<model>.rank_pattern`,
 *   `<model>.alpha_pattern`; a pattern key applies to the module it names,
 *   `^name` exactly, otherwise also any module ending in `.name`);
 *   `use_rslora` makes it alpha / sqrt(rank); without metadata the scale is 1.
 */
import { basename } from 'node:path';
import { LoraLoadError } from './lora-errors.js';
import type { LoraComponentName, LoraFile, LoraTensor, RawLoraLayer } from './lora-file.js';
import { kohyaNameIndex, unetLayout } from './kohya-names.js';

/** What a LoRA is checked against: one model's weight shapes and config. */
export interface LoraTarget {
  /** How messages name the model, e.g. "the UNet in /path/unet". */
  readonly description: string;
  /** Weight key -> shape, for every weight of the model. */
  readonly weightShapes: ReadonlyMap<string, readonly number[]>;
  readonly config: Readonly<Record<string, unknown>>;
}

/** A layer matched to the model: W' = W + coefficient * scaling * up @ down, on `weightKey`. */
export interface LoraLayer {
  readonly component: LoraComponentName;
  readonly module: string;
  readonly weightKey: string;
  readonly weightShape: readonly number[];
  readonly down: LoraTensor;
  readonly up: LoraTensor;
  readonly rank: number;
  /** alpha / rank. */
  readonly scaling: number;
}

export interface ResolvedLora {
  readonly layers: readonly LoraLayer[];
  /** Models the file has layers for, among the targets. */
  readonly components: readonly LoraComponentName[];
  /** Models the file has layers for that were not among the targets (left out). */
  readonly skipped: readonly LoraComponentName[];
}

const MODEL_NAMES: Record<LoraComponentName, string> = { unet: 'UNet', text_encoder: 'text_encoder', text_encoder_2: 'text_encoder_2' };

/** Matches `file`'s layers to `targets`; layers for a model not among them are left out (listed in `skipped`). */
export function resolveLoraLayers(file: LoraFile, targets: Partial<Record<LoraComponentName, LoraTarget>>): ResolvedLora {
  const metadata = adapterMetadata(file);
  const indexes = new Map<LoraComponentName, Map<string, string>>();
  const layers: LoraLayer[] = [];
  const components = new Set<LoraComponentName>();
  const skipped = new Set<LoraComponentName>();
  for (const raw of file.layers) {
    components.add(raw.component);
    const target = targets[raw.component];
    if (!target) {
      skipped.add(raw.component);
      continue;
    }
    const { down, up } = pairOf(raw, file.path);
    const module = moduleOf(raw, file, target, indexes);
    const weightKey = `${module}.weight`;
    const weightShape = target.weightShapes.get(weightKey)!;
    const rank = checkShapes(down, up, weightShape, module, target, file.path);
    layers.push({ component: raw.component, module, weightKey, weightShape, down, up, rank, scaling: scalingOf(raw, module, rank, metadata, file.path) });
  }
  const seen = new Map<string, LoraLayer>();
  for (const layer of layers) {
    const id = `${layer.component}:${layer.weightKey}`;
    const other = seen.get(id);
    if (other) {
      throw new LoraLoadError(`${file.path}: '${layer.down.key}' and '${other.down.key}' both adapt ${layer.component}'s '${layer.module}'.`, file.path, layer.down.key);
    }
    seen.set(id, layer);
  }
  return { layers, components: [...components].filter((c) => !skipped.has(c)), skipped: [...skipped] };
}

function firstKey(raw: RawLoraLayer): string {
  return (raw.down ?? raw.up)?.key ?? raw.alpha?.key ?? raw.name;
}

function pairOf(raw: RawLoraLayer, path: string): { down: LoraTensor; up: LoraTensor } {
  if (raw.down && raw.up) return { down: raw.down, up: raw.up };
  const have = raw.down ?? raw.up;
  if (!have) throw new LoraLoadError(`${path}: '${raw.alpha!.key}' gives an alpha for '${raw.name}' but the file has no down/up matrices for it.`, path, raw.alpha!.key);
  const missing = raw.down ? 'up (lora_B / lora_up)' : 'down (lora_A / lora_down)';
  throw new LoraLoadError(
    `${path}: '${have.key}' has no matching ${missing} matrix; a LoRA layer needs both. The file is incomplete: download it again.`,
    path,
    have.key,
  );
}

function moduleOf(raw: RawLoraLayer, file: LoraFile, target: LoraTarget, indexes: Map<LoraComponentName, Map<string, string>>): string {
  const key = firstKey(raw);
  if (file.format !== 'kohya') {
    if (target.weightShapes.has(`${raw.name}.weight`)) return raw.name;
    throw notInModel(file.path, key, `module '${raw.name}'`, raw.component, target);
  }
  let index = indexes.get(raw.component);
  if (!index) {
    const modules = [...target.weightShapes].filter(([k, s]) => k.endsWith('.weight') && s.length >= 2).map(([k]) => k.slice(0, -'.weight'.length));
    index = kohyaNameIndex(modules, raw.component === 'unet' ? unetLayout(target.config) : null);
    indexes.set(raw.component, index);
  }
  const module = index.get(raw.name);
  if (module) return module;
  throw notInModel(file.path, key, `kohya module '${raw.name}'`, raw.component, target);
}

function notInModel(path: string, key: string, what: string, component: LoraComponentName, target: LoraTarget): LoraLoadError {
  return new LoraLoadError(
    `${path}: '${key}' names ${what}, which ${target.description} does not have; the LoRA was made for another model architecture ` +
      `(a LoRA for SD 1.5, SD 2 or another UNet/text-encoder size does not fit an SDXL ${MODEL_NAMES[component]}).`,
    path,
    key,
  );
}

/** Checks that up @ down has the weight's shape; returns the rank. */
function checkShapes(down: LoraTensor, up: LoraTensor, weight: readonly number[], module: string, target: LoraTarget, path: string): number {
  const fail = (key: string, why: string): never => {
    throw new LoraLoadError(
      `${path}: '${key}' has shape [${(key === down.key ? down : up).shape.join(', ')}], which does not fit '${module}' ` +
        `(weight [${weight.join(', ')}] in ${target.description}): ${why}. The LoRA was made for another model architecture.`,
      path,
      key,
    );
  };
  if (down.shape.length < 2) fail(down.key, 'a down matrix is [rank, in_features, ...]');
  if (up.shape.length < 2) fail(up.key, 'an up matrix is [out_features, rank, ...]');
  const rank = down.shape[0]!;
  const [out, inFeatures, ...kernel] = weight as [number, number, ...number[]];
  if (up.shape[1] !== rank) fail(up.key, `its rank ${up.shape[1]} differs from the down matrix's ${rank}`);
  if (up.shape[0] !== out || up.shape.slice(2).some((d) => d !== 1)) fail(up.key, `the up matrix must be [${out}, ${rank}${up.shape.length > 2 ? ', 1, 1' : ''}]`);
  const downKernel = down.shape.slice(2);
  const kernelFits = downKernel.length === 0 ? kernel.every((d) => d === 1) : downKernel.length === kernel.length && downKernel.every((d, i) => d === kernel[i]);
  if (down.shape[1] !== inFeatures || !kernelFits) {
    fail(down.key, `the down matrix must be [${rank}, ${inFeatures}${kernel.length ? `, ${kernel.join(', ')}` : ''}]`);
  }
  return rank;
}

interface ComponentConfig {
  r?: number;
  lora_alpha?: number;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  use_rslora?: boolean;
  use_dora?: boolean;
}

/** The `lora_adapter_metadata` LoraConfig per model, from the safetensors metadata. */
function adapterMetadata(file: LoraFile): Map<LoraComponentName, ComponentConfig> {
  const out = new Map<LoraComponentName, ComponentConfig>();
  const raw = file.metadata.lora_adapter_metadata;
  if (raw === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new LoraLoadError(`${file.path}: metadata 'lora_adapter_metadata' is not valid JSON (${(error as Error).message}).`, file.path, 'lora_adapter_metadata');
  }
  if (!parsed || typeof parsed !== 'object') return out;
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const m = /^(unet|text_encoder|text_encoder_2)\.(.+)$/.exec(key);
    if (!m) continue;
    const component = m[1] as LoraComponentName;
    const config = out.get(component) ?? {};
    (config as Record<string, unknown>)[m[2]!] = value;
    out.set(component, config);
  }
  for (const [component, config] of out) {
    if (config.use_dora) {
      throw new LoraLoadError(`${file.path}: metadata says ${component}.use_dora; DoRA adapters are not supported (their update is not W + up @ down).`, file.path, 'lora_adapter_metadata');
    }
  }
  return out;
}

function patternValue(patterns: Record<string, number> | undefined, module: string): number | undefined {
  if (!patterns) return undefined;
  for (const [pattern, value] of Object.entries(patterns)) {
    if (pattern.startsWith('^') ? module === pattern.slice(1) : module === pattern || module.endsWith(`.${pattern}`)) return value;
  }
  return undefined;
}

function scalingOf(raw: RawLoraLayer, module: string, rank: number, metadata: Map<LoraComponentName, ComponentConfig>, path: string): number {
  if (raw.alpha) return raw.alpha.value / rank;
  const config = metadata.get(raw.component);
  if (!config) return 1;
  const r = patternValue(config.rank_pattern, module) ?? config.r ?? rank;
  if (r !== rank) {
    throw new LoraLoadError(
      `${path}: metadata gives ${raw.component} module '${module}' rank ${r} but '${raw.down!.key}' has rank ${rank}; the metadata does not belong to these weights (${basename(path)}).`,
      path,
      raw.down!.key,
    );
  }
  const alpha = patternValue(config.alpha_pattern, module) ?? config.lora_alpha ?? r;
  return config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
}
