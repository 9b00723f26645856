/**
 * LoRA adapters on an SDXL pipeline, as diffusers' StableDiffusionXLLoraLoaderMixin offers them:
 * `loadLoraWeights`, `setAdapters`, `fuseLora` / `unfuseLora`, `getActiveAdapters`,
 * `getListAdapters`, `getFusedAdapters`, `deleteAdapters`, `disableLora` / `enableLora`, `unloadLoraWeights`, for the
 * UNet and both text encoders.
 *
 * How it works: an ONNX session cannot carry PEFT's extra LoRA layers, so the active adapters are
 * always FUSED into the weights the graph binds. The components must run graphs built from their
 * diffusers weights (modelSource 'safetensors', or a repo without ONNX exports); each change of
 * the active adapters or their scales rebuilds the affected models through the model builder's
 * `weightOverride` (only the adapted tensors are recomputed, W' = W + sum of scale * alpha / rank *
 * up @ down, and stored in the graph; every other weight is still read in place from the
 * safetensors) and swaps the new session into the same component object. The graph is a
 * built-graph cache entry keyed by the LoRA files' sha256, the layers and the scales, so
 * returning to a state seen before (a scale used before, the base graph after unload) loads it
 * from the cache instead of building it. What a change costs: recomputing the adapted tensors plus
 * writing and opening one graph per adapted model (measured on the tiny fixtures in the README).
 *
 * The numbers follow diffusers (PEFT), where an adapter adds scale * alpha / rank * up @ down
 * whether it is merged into the weights or applied at run time:
 * - `loadLoraWeights` makes the new adapter the only active one, at scale 1;
 * - `setAdapters(names, weights)` chooses the active adapters and sets their scales to the weights
 *   (a number, or one per model: `{ unet: 0.5, text_encoder: 1 }`), PEFT's `set_scale`;
 * - `fuseLora({ loraScale })` multiplies the active adapters' scales by loraScale (PEFT's
 *   `scale_layer`) and marks them fused; fusing a fused adapter again is refused (diffusers only
 *   warns, and its merged weights and scales then disagree);
 * - `unfuseLora()` changes no number and rebuilds nothing: diffusers unmerges, and the adapter,
 *   still active at its scaled scale, is applied at run time to the same result; the base weights
 *   come back with `disableLora()`, `setAdapters([])`, `deleteAdapters` or `unloadLoraWeights()`
 *   (the base graph, from the cache).
 * One difference: diffusers keeps merged weights as they are when `setAdapters` runs while fused
 * (the new scales show only after unfusing); here the graph follows the new scales at once.
 *
 * Every file is checked against the models before anything is rebuilt: its keys, the modules they
 * name, the matrices' shapes (lora-layers.ts). Layers for a model the pipeline has not loaded are
 * left out with a warning, as diffusers skips a text encoder the pipeline lacks.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FUSE_LORA_OPTIONS,
  InvalidArgumentError,
  LOAD_LORA_WEIGHTS_OPTIONS,
  UNFUSE_LORA_OPTIONS,
  type FuseLoraOptions,
  type LoadLoraWeightsOptions,
  type Logger,
  type ModularPipeline,
  type RepoLocation,
  type ResolvedLocation,
  type UnfuseLoraOptions,
} from '@modular-diffusers/core';
import { builtModelRecipe, openRebuilt } from '../components/built-model-recipes.js';
import type { OnnxSessionComponent } from '../components/onnx-session-component.js';
import { LoraLoadError } from './lora-errors.js';
import { LORA_COMPONENTS, readLoraFile, refusePickle, type LoraComponentName, type LoraFile } from './lora-file.js';
import { loraWeightOverride, type WeightedLoraLayer } from './lora-fusion.js';
import { resolveLoraLayers, type LoraLayer, type LoraTarget } from './lora-layers.js';
import { loraTargetFromShapes } from './lora-targets.js';
import { isDirectory, isFile } from '../components/path-kind.js';

/** An adapter's weight: one number for every model, or one per model (missing models: 1). */
export type LoraAdapterWeight = number | Partial<Record<LoraComponentName, number>>;

/** diffusers' default LoRA file name. */
export const LORA_WEIGHT_NAME = 'pytorch_lora_weights.safetensors';

interface LoadedAdapter {
  readonly name: string;
  readonly file: LoraFile;
  readonly layers: readonly LoraLayer[];
  readonly components: readonly LoraComponentName[];
}

/** What the loader needs from its pipeline beyond the public API. */
export interface LoraHost {
  readonly pipeline: ModularPipeline;
  readonly logger: Logger;
  resolveRepo(location: RepoLocation): Promise<ResolvedLocation>;
}

/** Timing of the last rebuild of each model, for logs and the README's measurement. */
export interface LoraRebuild {
  readonly component: LoraComponentName;
  readonly fromCache: boolean;
  readonly buildMs: number;
  readonly totalMs: number;
}

export class SdxlLoraAdapters {
  private readonly adapters = new Map<string, LoadedAdapter>();
  private active: Array<{ name: string; weight: LoraAdapterWeight }> = [];
  /** The product of fuseLora scales per model and adapter since its weight was set (PEFT's scale_layer); absent: 1. */
  private readonly fuseScales = new Map<LoraComponentName, Map<string, number>>();
  /** The adapters fused per model (diffusers' merged adapters). */
  private readonly fusedNames = new Map<LoraComponentName, Set<string>>();
  private enabled = true;
  private safeFusing = false;
  /** The override id each component object's graph carries now ('' = base weights). */
  private readonly applied = new WeakMap<object, string>();
  private counter = 0;
  /** The rebuilds the last change made. */
  lastRebuilds: LoraRebuild[] = [];

  constructor(private readonly host: LoraHost) {}

  /** diffusers' `load_lora_weights`: reads and checks the file, makes it the active adapter (weight 1) and fuses it. */
  async loadLoraWeights(repoOrPath: string, options: LoadLoraWeightsOptions = {}): Promise<void> {
    LOAD_LORA_WEIGHTS_OPTIONS.check(options);
    if (typeof repoOrPath !== 'string' || repoOrPath === '') {
      throw new InvalidArgumentError('loadLoraWeights(repoOrPath, options): pass a repo id, a local folder or a .safetensors file.');
    }
    const name = options.adapterName ?? `default_${this.counter}`;
    if (this.adapters.has(name)) {
      throw new InvalidArgumentError(`loadLoraWeights: adapter name '${name}' is already in use; pass another adapterName, or deleteAdapters('${name}') first.`);
    }
    const path = await this.locate(repoOrPath, options);
    const file = await readLoraFile(path);
    const targets = await this.targets(file);
    const resolved = resolveLoraLayers(file, targets);
    for (const skipped of resolved.skipped) {
      this.host.logger.warn(`loadLoraWeights: ${path} has layers for ${skipped}, which this pipeline has not loaded; they are left out.`);
    }
    if (resolved.layers.length === 0) {
      throw new LoraLoadError(`${path}: no layer of the LoRA adapts a model this pipeline has loaded (it adapts ${resolved.skipped.join(', ')}); load them first with pipeline.loadComponents({ modelSource: 'safetensors' }).`, path);
    }
    this.host.logger.info(`loadLoraWeights: adapter '${name}' from ${path} (${file.format} layout, ${resolved.layers.length} layers for ${resolved.components.join(', ')}).`);
    await this.change(() => {
      this.adapters.set(name, { name, file, layers: resolved.layers, components: resolved.components });
      this.active = [{ name, weight: 1 }];
      this.forgetScales([name]);
    }, options.signal as AbortSignal | undefined);
    this.counter++;
  }

  /**
   * Applies a change of the adapter state; when a rebuild fails the state is put back (each
   * model's graph is tracked by what it carries, so the next change rebuilds what needs it).
   */
  /**
   * Fuses the active adapters into models loaded again since they were fused (loadIpAdapter
   * rebuilds the UNet with the image adapter, from its base weights): as in diffusers, a LoRA
   * stays on through an IP-Adapter load. Models already in their state are left alone.
   */
  async refresh(signal?: AbortSignal): Promise<void> {
    if (this.adapters.size === 0) return;
    await this.apply(signal);
  }

  private async change(mutate: () => void, signal?: AbortSignal): Promise<void> {
    const snapshot = {
      adapters: new Map(this.adapters),
      active: this.active,
      fuseScales: new Map([...this.fuseScales].map(([c, m]) => [c, new Map(m)] as const)),
      fusedNames: new Map([...this.fusedNames].map(([c, m]) => [c, new Set(m)] as const)),
      enabled: this.enabled,
      safeFusing: this.safeFusing,
    };
    mutate();
    try {
      await this.apply(signal);
    } catch (error) {
      this.adapters.clear();
      for (const [k, v] of snapshot.adapters) this.adapters.set(k, v);
      this.active = snapshot.active;
      this.fuseScales.clear();
      for (const [k, v] of snapshot.fuseScales) this.fuseScales.set(k, v);
      this.fusedNames.clear();
      for (const [k, v] of snapshot.fusedNames) this.fusedNames.set(k, v);
      this.enabled = snapshot.enabled;
      this.safeFusing = snapshot.safeFusing;
      throw error;
    }
  }

  /** diffusers' `set_adapters`: the active adapters and their weights (default 1 each); refused names are listed. */
  async setAdapters(names: string | readonly string[], weights?: LoraAdapterWeight | ReadonlyArray<LoraAdapterWeight | null> | null): Promise<void> {
    const list = typeof names === 'string' ? [names] : [...names];
    for (const name of list) this.known(name, 'setAdapters');
    let perAdapter: Array<LoraAdapterWeight | null>;
    if (Array.isArray(weights)) {
      if (weights.length !== list.length) {
        throw new InvalidArgumentError(`setAdapters: ${list.length} adapter name(s) but ${weights.length} weight(s); give one weight per adapter.`);
      }
      perAdapter = [...weights];
    } else {
      perAdapter = list.map(() => (weights ?? null) as LoraAdapterWeight | null);
    }
    const active = list.map((name, i) => ({ name, weight: checkWeight(perAdapter[i] ?? 1, name) }));
    await this.change(() => {
      this.active = active;
      // PEFT's set_scale: the weight replaces whatever fuseLora multiplied in.
      this.forgetScales(list);
    });
  }

  /** diffusers' `fuse_lora`: multiplies the active adapters' scales by `loraScale` and marks them (or `adapterNames`) fused. */
  async fuseLora(options: FuseLoraOptions = {}): Promise<void> {
    FUSE_LORA_OPTIONS.check(options);
    const scale = options.loraScale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new InvalidArgumentError(`fuseLora: loraScale must be a finite number, got ${JSON.stringify(scale)}.`);
    const names = options.adapterNames ?? this.active.map((a) => a.name);
    for (const name of names) this.known(name, 'fuseLora');
    const components = checkComponents(options.components, 'fuseLora');
    for (const component of components) {
      const already = names.filter((n) => this.fusedNames.get(component)?.has(n));
      if (already.length) {
        throw new InvalidArgumentError(
          `fuseLora: adapter(s) ${already.map((n) => `'${n}'`).join(', ')} are already fused into ${component}; call unfuseLora() first ` +
            `(and setAdapters to reset the scale: as in diffusers, each fuseLora multiplies it by loraScale).`,
        );
      }
    }
    await this.change(() => {
      for (const component of components) {
        // PEFT's scale_layer scales every active adapter of the layer, whichever are merged.
        const scales = new Map(this.fuseScales.get(component) ?? []);
        for (const { name } of this.active) scales.set(name, (scales.get(name) ?? 1) * scale);
        this.fuseScales.set(component, scales);
        this.fusedNames.set(component, new Set([...(this.fusedNames.get(component) ?? []), ...names]));
      }
      this.safeFusing = options.safeFusing ?? false;
    }, options.signal as AbortSignal | undefined);
  }

  /**
   * diffusers' `unfuse_lora`: the adapters are no longer marked fused. No number changes (diffusers'
   * unmerged adapters apply at run time at the same scales), so nothing is rebuilt.
   */
  async unfuseLora(options: UnfuseLoraOptions = {}): Promise<void> {
    UNFUSE_LORA_OPTIONS.check(options);
    const components = checkComponents(options.components, 'unfuseLora');
    await this.change(() => {
      for (const component of components) this.fusedNames.delete(component);
    }, options.signal as AbortSignal | undefined);
  }

  /** The adapters fused per model (diffusers' `_merged_adapters`, per model). */
  getFusedAdapters(): Partial<Record<LoraComponentName, string[]>> {
    const out: Partial<Record<LoraComponentName, string[]>> = {};
    for (const [component, names] of this.fusedNames) if (names.size) out[component] = [...names];
    return out;
  }

  /** The active adapters' names. */
  getActiveAdapters(): string[] {
    return this.active.map((a) => a.name);
  }

  /** The loaded adapters per model: `{ unet: ['a'], text_encoder: ['a'] }`. */
  getListAdapters(): Partial<Record<LoraComponentName, string[]>> {
    const out: Partial<Record<LoraComponentName, string[]>> = {};
    for (const adapter of this.adapters.values()) for (const c of adapter.components) (out[c] ??= []).push(adapter.name);
    return out;
  }

  /** Forgets adapters (and takes them out of the active set). */
  async deleteAdapters(names: string | readonly string[]): Promise<void> {
    const list = typeof names === 'string' ? [names] : [...names];
    for (const name of list) this.known(name, 'deleteAdapters');
    await this.change(() => {
      for (const name of list) {
        this.adapters.delete(name);
        this.forgetScales([name]);
        for (const [component, names] of this.fusedNames) this.fusedNames.set(component, new Set([...names].filter((n) => n !== name)));
      }
      this.active = this.active.filter((a) => !list.includes(a.name));
    });
  }

  /** Base weights until enableLora (the adapters stay loaded). */
  async disableLora(): Promise<void> {
    await this.change(() => {
      this.enabled = false;
    });
  }

  async enableLora(): Promise<void> {
    await this.change(() => {
      this.enabled = true;
    });
  }

  /** Forgets every adapter and gives the models their base graphs back (from the built-graph cache). */
  async unloadLoraWeights(): Promise<void> {
    await this.change(() => {
      this.adapters.clear();
      this.active = [];
      this.fuseScales.clear();
      this.fusedNames.clear();
    });
  }

  private known(name: string, where: string): void {
    if (!this.adapters.has(name)) {
      const loaded = [...this.adapters.keys()];
      throw new InvalidArgumentError(`${where}: no adapter '${name}' is loaded (loaded: ${loaded.length ? loaded.map((n) => `'${n}'`).join(', ') : 'none'}); load it with loadLoraWeights(..., { adapterName: '${name}' }).`);
    }
  }

  /** A local .safetensors file, or the LoRA file in a local folder or repo. */
  private async locate(repoOrPath: string, options: LoadLoraWeightsOptions): Promise<string> {
    const weightName = options.weightName ?? null;
    if (weightName) refusePickle(weightName);
    if (await isFile(repoOrPath)) {
      refusePickle(repoOrPath);
      return repoOrPath;
    }
    let folder: string;
    if (await isDirectory(repoOrPath)) folder = options.subfolder ? join(repoOrPath, options.subfolder) : repoOrPath;
    else {
      const resolved = await this.host.resolveRepo({ repo: repoOrPath, subfolder: options.subfolder ?? null, revision: options.revision ?? null, variant: null });
      folder = resolved.path;
    }
    if (weightName) {
      const path = join(folder, weightName);
      if (!(await isFile(path))) throw new LoraLoadError(`loadLoraWeights: ${path} does not exist; check weightName '${weightName}'.`, path);
      return path;
    }
    const names = (await readdir(folder).catch(() => [] as string[])).sort();
    if (names.includes(LORA_WEIGHT_NAME)) return join(folder, LORA_WEIGHT_NAME);
    const safetensors = names.filter((n) => n.endsWith('.safetensors'));
    if (safetensors.length === 1) return join(folder, safetensors[0]!);
    if (safetensors.length > 1) {
      throw new LoraLoadError(`loadLoraWeights: ${folder} has several safetensors files (${safetensors.join(', ')}); pass weightName to pick one.`, folder);
    }
    const pickle = names.find((n) => /\.(bin|pt|pth|ckpt)$/.test(n));
    if (pickle) refusePickle(join(folder, pickle));
    throw new LoraLoadError(`loadLoraWeights: ${folder} has no .safetensors LoRA file; pass weightName.`, folder);
  }

  /** The loaded models the file adapts, as LoraTargets; each must run a built graph. */
  private async targets(file: LoraFile): Promise<Partial<Record<LoraComponentName, LoraTarget>>> {
    const out: Partial<Record<LoraComponentName, LoraTarget>> = {};
    const wanted = new Set(file.layers.map((l) => l.component));
    for (const name of LORA_COMPONENTS) {
      if (!wanted.has(name)) continue;
      const component = this.component(name);
      if (!component) continue;
      const recipe = builtModelRecipe(component.model);
      if (!recipe) throw exportError(name, component, file.path);
      const source = recipe.buildOptions.folder ?? recipe.buildOptions.checkpoint?.file ?? component.folder;
      out[name] = loraTargetFromShapes(recipe.weightShapes, component.config, `the ${name} from ${source}`);
    }
    return out;
  }

  private component(name: LoraComponentName): OnnxSessionComponent | null {
    if (!this.host.pipeline.componentNames.includes(name)) return null;
    return (this.host.pipeline.getComponent<OnnxSessionComponent | null>(name) ?? null) as OnnxSessionComponent | null;
  }

  private coefficient(name: string, weight: LoraAdapterWeight, component: LoraComponentName): number {
    const base = typeof weight === 'number' ? weight : weight[component] ?? 1;
    return base * (this.fuseScales.get(component)?.get(name) ?? 1);
  }

  private forgetScales(names: readonly string[]): void {
    for (const [component, scales] of this.fuseScales) {
      const kept = new Map(scales);
      for (const name of names) kept.delete(name);
      this.fuseScales.set(component, kept);
    }
  }

  /** Rebuilds each adapted model whose fused state changed; a model already in that state is left alone. */
  private async apply(signal?: AbortSignal): Promise<void> {
    const plans: Array<{ name: LoraComponentName; component: OnnxSessionComponent; contributions: WeightedLoraLayer[] }> = [];
    for (const name of LORA_COMPONENTS) {
      const component = this.component(name);
      if (!component) continue;
      const contributions: WeightedLoraLayer[] = [];
      if (this.enabled) {
        for (const { name: adapterName, weight } of this.active) {
          const adapter = this.adapters.get(adapterName)!;
          const coefficient = this.coefficient(adapterName, weight, name);
          if (coefficient === 0) continue;
          for (const layer of adapter.layers) {
            if (layer.component === name) contributions.push({ layer, coefficient, adapterName, fileSha256: adapter.file.sha256, filePath: adapter.file.path });
          }
        }
      }
      const override = contributions.length ? loraWeightOverride(contributions, this.safeFusing) : null;
      if ((this.applied.get(component) ?? '') === (override?.id ?? '')) continue;
      const recipe = builtModelRecipe(component.model);
      if (!recipe) throw exportError(name, component, null);
      plans.push({ name, component, contributions });
    }
    const rebuilds: LoraRebuild[] = [];
    for (const { name, component, contributions } of plans) {
      const started = performance.now();
      const override = contributions.length ? loraWeightOverride(contributions, this.safeFusing) : null;
      const { model, fromCache, buildMs } = await openRebuilt(builtModelRecipe(component.model)!, override, signal);
      await component.replaceModel(model);
      this.applied.set(component, override?.id ?? '');
      const rebuild = { component: name, fromCache, buildMs, totalMs: performance.now() - started };
      rebuilds.push(rebuild);
      this.host.logger.info(
        `${name}: ${override ? `fused ${contributions.length} LoRA layer(s)` : 'base weights'}: ` +
          `${fromCache ? 'graph from the built-graph cache' : `graph built in ${Math.round(buildMs)} ms`}, session swapped in ${Math.round(rebuild.totalMs)} ms.`,
      );
    }
    this.lastRebuilds = rebuilds;
  }
}


function exportError(name: LoraComponentName, component: OnnxSessionComponent, file: string | null): LoraLoadError {
  return new LoraLoadError(
    `${name} runs the ONNX export ${component.model.path}, whose weights are fixed in the file, so a LoRA cannot be fused into it. ` +
      `Load the ${name} from its diffusers weights: pipeline.loadComponents(['${name}'], { modelSource: 'safetensors' }) ` +
      `(the folder needs config.json and the safetensors), then load the LoRA.`,
    file ?? component.model.path,
  );
}

function checkWeight(weight: LoraAdapterWeight, name: string): LoraAdapterWeight {
  const bad = (): never => {
    throw new InvalidArgumentError(
      `setAdapters: the weight of adapter '${name}' must be a finite number or { unet?, text_encoder?, text_encoder_2? } of numbers ` +
        `(per-block UNet weights cannot be fused per block here), got ${JSON.stringify(weight)}.`,
    );
  };
  if (typeof weight === 'number') return Number.isFinite(weight) ? weight : bad();
  if (!weight || typeof weight !== 'object') return bad();
  for (const [key, value] of Object.entries(weight)) {
    if (!LORA_COMPONENTS.includes(key as LoraComponentName) || typeof value !== 'number' || !Number.isFinite(value)) bad();
  }
  return weight;
}

function checkComponents(components: readonly string[] | undefined, where: string): LoraComponentName[] {
  const list = components ?? LORA_COMPONENTS;
  for (const c of list) {
    if (!LORA_COMPONENTS.includes(c as LoraComponentName)) {
      throw new InvalidArgumentError(`${where}: components must be among ${LORA_COMPONENTS.join(', ')}, got '${c}'.`);
    }
  }
  return [...list] as LoraComponentName[];
}
