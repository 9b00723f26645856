import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { ComponentSpec } from '../components/component-spec.js';
import { MemoryBudgetError } from '../components/memory-budget.js';
import { isOffloadable } from '../components/offloadable-component.js';
import { checkDevice, type ComponentsManager } from '../components/components-manager.js';
import { defaultLoaderRegistry, type ComponentLoaderRegistry } from '../components/loader-registry.js';
import { getLoadId } from '../components/load-id.js';
import { buildModelIndex, parseModelIndex, type ModelIndexInfo } from '../components/model-index.js';
import { getDefaultRepoResolver, type RepoResolver } from '../components/repo-resolver.js';
import {
  BlockDefinitionError,
  ComponentLoadError,
  InvalidArgumentError,
  LoaderNotFoundError,
  NotFoundError,
  UnexpectedInputError,
} from '../errors.js';
import {
  getPretrainedHook,
  getPretrainedHooks,
  type SavePretrainedResult,
} from '../hub/pretrained-hooks.js';
import { PIPELINE_FROM_PRETRAINED_OPTIONS, SAVE_PRETRAINED_OPTIONS, type PipelineFromPretrainedOptions, type SavePretrainedOptions } from './pipeline-options.js';
import { getLogger, type Logger } from '../logger.js';
import type { ConfigSpec } from '../params/config-spec.js';
import { PipelineState } from '../state/pipeline-state.js';
import type { ProgressEvent } from '../state/run-context.js';
import { throwIfAborted, type AbortSignalLike } from '../util/abort.js';
import { inspectSymbol } from '../util/inspect.js';
import { installModularPipelineAliases } from '../compat/modular-pipeline-compat.js';
import { getPipelineClass } from './pipeline-classes.js';
import {
  INIT_PIPELINE_OPTIONS,
  RUN_OPTIONS,
  type InitPipelineOptions,
  type PipelineConstructor,
  type RunOptions,
} from './pipeline-options.js';
import { COMPONENT_LOADER_OPTIONS, LOAD_COMPONENTS_OPTIONS, type ComponentLoaderOptions, type LoadComponentsOptions } from '../components/component-load-options.js';
import { nearestKey } from '../util/closed-options.js';
import { checkRunMemory, parseMaxMemory } from './run-memory.js';

export type { InitPipelineOptions, PipelineConstructor, RunOptions, LoadComponentsOptions };
import { PipelineLoader } from './pipeline-loader.js';

/** The `components` argument blocks receive: the pipeline, with components as properties (`components.unet`). */
export type PipelineComponents = ModularPipeline & Record<string, any>;

/** Pipeline inputs by name, plus `output` (what to return) and `state` (a state to continue from). */
export type RunInputs = { [input: string]: unknown; output?: string | readonly string[]; state?: PipelineState };

export interface LoadReport {
  loaded: string[];
  /** Taken from the components manager because another pipeline had loaded the same load id. */
  reused: string[];
  skipped: Array<{ name: string; reason: string }>;
  failed: Array<{ name: string; error: unknown }>;
}

/** How `initPipeline` returns a pipeline: the instance, callable like `await pipeline({ prompt })`. */
export interface CallablePipeline {
  (inputs: RunInputs & { output: string }, options?: RunOptions): Promise<any>;
  (inputs: RunInputs & { output: readonly string[] }, options?: RunOptions): Promise<Record<string, any>>;
  (inputs?: RunInputs, options?: RunOptions): Promise<any>;
}

/**
 * Blocks plus their components: holds the component specs and objects,
 * loads what is missing, and runs the blocks on a fresh PipelineState.
 * Components are properties (`pipeline.unet`), which is how blocks reach
 * them; config values are on `pipeline.config`.
 */
export class ModularPipeline {
  readonly blocks: ModularPipelineBlocks;
  readonly pretrainedModelNameOrPath: string | null;
  /** Pipeline config values, e.g. `config.requires_aesthetics_score`. */
  readonly config: Record<string, unknown> = {};
  readonly componentsManager: ComponentsManager | null;
  readonly collection: string | null;
  readonly loaderRegistry: ComponentLoaderRegistry;
  strict: boolean;
  /** What the applied model index said, if one was read. */
  modelIndexInfo: ModelIndexInfo | null = null;

  protected readonly componentSpecs = new Map<string, ComponentSpec>();
  protected readonly configSpecs = new Map<string, ConfigSpec>();
  protected readonly componentValues = new Map<string, unknown>();
  protected readonly repoResolver: RepoResolver | null;
  protected readonly defaultLoadOptions: LoadComponentsOptions;
  /** The largest run this pipeline starts (see `maxMemory`); null for the default. */
  maxMemory: number | string | null;
  protected readonly logger: Logger;
  private modelIndexRead = false;
  /** Components whose source is only the assumed `<repo>/<name>` layout: no index lists them. */
  private readonly assumedSources = new Set<string>();
  private cachedLoader: PipelineLoader | null = null;

  constructor(blocks: ModularPipelineBlocks, repo: string | null = null, options: InitPipelineOptions = {}) {
    INIT_PIPELINE_OPTIONS.check(options);
    options ??= {};
    if (options.loadOptions) LOAD_COMPONENTS_OPTIONS.check(options.loadOptions, 'initPipeline loadOptions');
    this.blocks = blocks;
    this.pretrainedModelNameOrPath = repo;
    this.componentsManager = options.componentsManager ?? null;
    this.collection = options.collection ?? null;
    this.loaderRegistry = options.loaderRegistry ?? defaultLoaderRegistry;
    this.repoResolver = options.repoResolver ?? null;
    this.defaultLoadOptions = { ...options.loadOptions };
    this.maxMemory = options.maxMemory ?? null;
    if (this.maxMemory !== null) parseMaxMemory(this.maxMemory);
    this.strict = options.strict ?? false;
    this.logger = options.logger ?? getLogger();

    for (const spec of blocks.expectedComponents) this.componentSpecs.set(spec.name, spec.clone());
    for (const spec of blocks.expectedConfigs) {
      this.configSpecs.set(spec.name, spec);
      this.config[spec.name] = spec.default;
    }
    if (options.modelIndex) {
      this.applyModelIndex(options.modelIndex);
      this.modelIndexRead = true;
    } else if (repo) {
      // Until the repo's index is read, assume the standard layout: each component in `<repo>/<name>`.
      for (const spec of this.componentSpecs.values()) {
        if (spec.defaultCreationMethod === 'fromPretrained' && !spec.pretrainedModelNameOrPath) {
          spec.pretrainedModelNameOrPath = repo;
          spec.subfolder ??= spec.name;
          this.assumedSources.add(spec.name);
        }
      }
    }

    for (const name of this.componentSpecs.keys()) this.defineComponentProperty(name);
    for (const [name, spec] of this.componentSpecs) {
      this.componentValues.set(name, spec.defaultCreationMethod === 'fromConfig' ? this.createFromConfig(spec) : null);
    }
    return makeCallable(this);
  }

  /** Loads a pipeline shared on the Hub (blocks, specs, configs); implemented by `@modular-diffusers/hub`. */
  static async fromPretrained(repo: string, options: PipelineFromPretrainedOptions = {}): Promise<ModularPipeline & CallablePipeline> {
    PIPELINE_FROM_PRETRAINED_OPTIONS.check(options);
    return getPretrainedHooks('ModularPipeline.fromPretrained').pipelineFromPretrained(repo, options ?? {}) as Promise<
      ModularPipeline & CallablePipeline
    >;
  }

  /**
   * Writes `modular_model_index.json`, `modular_config.json` and a model card
   * to `dir`, and with `pushToHub` uploads them in one commit; implemented by `@modular-diffusers/hub`.
   */
  savePretrained(dir: string, options: SavePretrainedOptions = {}): Promise<SavePretrainedResult> {
    SAVE_PRETRAINED_OPTIONS.check(options, 'ModularPipeline.savePretrained');
    return getPretrainedHook('savePipeline', 'ModularPipeline.savePretrained')(this, dir, options ?? {});
  }

  get className(): string {
    return this.constructor.name;
  }

  /** The resolver this pipeline loads repos through (initPipeline's `repoResolver`, else the default one); null when there is none. */
  get resolver(): RepoResolver | null {
    return this.repoResolver ?? getDefaultRepoResolver();
  }

  // ---- components -------------------------------------------------------------------------

  /** Every component by name (null for one not loaded yet). */
  get components(): Record<string, unknown> {
    return Object.fromEntries(this.componentValues);
  }

  get componentNames(): string[] {
    return [...this.componentSpecs.keys()];
  }

  /** Components that still need loading (or creating). */
  get nullComponentNames(): string[] {
    return [...this.componentValues].filter(([, v]) => v === null || v === undefined).map(([k]) => k);
  }

  get pretrainedComponentNames(): string[] {
    return [...this.componentSpecs.values()].filter((s) => s.defaultCreationMethod === 'fromPretrained').map((s) => s.name);
  }

  get configComponentNames(): string[] {
    return [...this.componentSpecs.values()].filter((s) => s.defaultCreationMethod === 'fromConfig').map((s) => s.name);
  }

  /** A copy of the spec of component `name`. */
  getComponentSpec(name: string): ComponentSpec {
    const spec = this.componentSpecs.get(name);
    if (!spec) throw new NotFoundError(`No component '${name}' in this pipeline. Its components are: ${this.componentNames.join(', ') || '(none)'}.`);
    return spec.clone();
  }

  getComponent<T = unknown>(name: string): T {
    if (!this.componentSpecs.has(name)) this.getComponentSpec(name);
    return this.componentValues.get(name) as T;
  }

  /** Pipeline input names mapped to their defaults. */
  get defaultCallParameters(): Record<string, unknown> {
    return Object.fromEntries(this.blocks.allInputs.filter((p) => p.name).map((p) => [p.name as string, p.default]));
  }

  get doc(): string {
    return this.blocks.doc;
  }

  /** The loading methods in one object (`pipeline.loader.load(...)`). */
  get loader(): PipelineLoader {
    this.cachedLoader ??= this.createLoader();
    return this.cachedLoader;
  }

  /** Override to give a pipeline class extra loader methods. */
  protected createLoader(): PipelineLoader {
    return new PipelineLoader(this);
  }

  /**
   * Loads from-pretrained components: with `names` null, every one that has
   * a repo and is not loaded yet. Components another pipeline on the same
   * ComponentsManager already loaded from the same load id are reused.
   */
  async loadComponents(
    namesOrOptions: string | readonly string[] | LoadComponentsOptions | null = null,
    options: LoadComponentsOptions = {},
  ): Promise<LoadReport> {
    // The guide's `load_components(torch_dtype=...)` has only options: `loadComponents({ dtype })`.
    const optionsOnly = namesOrOptions !== null && typeof namesOrOptions === 'object' && !Array.isArray(namesOrOptions);
    const names = optionsOnly ? null : (namesOrOptions as string | readonly string[] | null);
    if (optionsOnly) options = namesOrOptions as LoadComponentsOptions;
    LOAD_COMPONENTS_OPTIONS.check(options);
    this.checkPerComponent(options?.perComponent);
    const { signal, perComponent = {}, onError = 'throw', loaderOptions, workflow, ...named } = { ...this.defaultLoadOptions, ...options };
    if (onError !== 'throw' && onError !== 'warn') {
      throw new InvalidArgumentError(`pipeline.loadComponents: onError must be 'throw' or 'warn', got ${JSON.stringify(onError)}.`);
    }
    const shared: Record<string, unknown> = { ...named };
    if (names !== null && typeof names !== 'string' && !Array.isArray(names)) {
      throw new InvalidArgumentError(`Invalid type for names: expected a component name or a list of names, got ${typeof names}.`);
    }
    if (workflow !== undefined && names !== null) {
      throw new InvalidArgumentError(`loadComponents: pass either names or { workflow: '${String(workflow)}' }, not both.`);
    }
    const inWorkflow = workflow === undefined ? null : new Set(this.blocks.getWorkflow(String(workflow)).expectedComponents.map((s) => s.name));
    await this.readModelIndexOnce(signal);
    const report: LoadReport = { loaded: [], reused: [], skipped: [], failed: [] };
    let targets: string[];
    if (names === null) {
      targets = [...this.componentSpecs.values()]
        .filter((s) => s.defaultCreationMethod === 'fromPretrained' && this.componentValues.get(s.name) == null)
        .filter((s) => inWorkflow === null || inWorkflow.has(s.name))
        .map((s) => s.name);
    } else {
      const list = typeof names === 'string' ? [names] : [...names];
      const unknown = list.filter((n) => !this.componentSpecs.has(n));
      if (unknown.length) this.logger.warn(`loadComponents: unknown components ignored: ${unknown.join(', ')}. Known: ${this.componentNames.join(', ')}.`);
      targets = list.filter((n) => this.componentSpecs.has(n));
    }
    for (const name of targets) {
      throwIfAborted(signal, `while loading components (before '${name}')`);
      const spec = this.componentSpecs.get(name)!;
      if (spec.defaultCreationMethod === 'fromConfig') {
        this.registerComponents({ [name]: spec.create(null, { registry: this.loaderRegistry, logger: this.logger }) });
        report.loaded.push(name);
        continue;
      }
      const { loaderOptions: ownLoaderOptions, ...ownOptions } = perComponent[name] ?? {};
      const perOptions: Record<string, unknown> = { ...shared, ...ownOptions };
      // A custom loader's own settings reach it as loader options, beside the declared ones.
      const customOptions = loaderOptions || ownLoaderOptions ? { ...loaderOptions, ...ownLoaderOptions } : undefined;
      const willHaveRepo = spec.pretrainedModelNameOrPath ?? perOptions.repo ?? perOptions.pretrainedModelNameOrPath;
      if (!willHaveRepo) {
        const reason = `no repo: the block specs and the model index give none (pass { perComponent: { ${name}: { repo } } } or use updateComponents)`;
        report.skipped.push({ name, reason });
        this.logger.info(`loadComponents: skipping '${name}': ${reason}.`);
        continue;
      }
      if (names === null && !perComponent[name] && (await this.absentFromRepo(spec, signal))) {
        // diffusers loads only what the index lists; a block's optional component (controlnet,
        // image_encoder) is not an error on a repo without it, only when a branch needs it.
        const reason = `the model index gives it no source and the repo has no '${spec.subfolder}/' folder; load it with { perComponent: { ${name}: { repo } } } for the branch that uses it`;
        report.skipped.push({ name, reason });
        this.logger.info(`loadComponents: skipping '${name}': ${reason}.`);
        continue;
      }
      if (names !== null && (await this.namedRepoHasComponentAtRoot(spec, perOptions, signal))) perOptions.subfolder = null;
      const pin = typeof perComponent[name]?.device === 'string' ? (perComponent[name]!.device as string) : null;
      let component: unknown = undefined;
      try {
        const shareable = this.sharedComponent(spec, perOptions);
        if (shareable !== undefined) {
          this.registerComponent(name, shareable, pin);
          report.reused.push(name);
          continue;
        }
        component = await spec.load({
          ...(perOptions as ComponentLoaderOptions),
          ...(customOptions ? { loaderOptions: customOptions } : {}),
          registry: this.loaderRegistry,
          resolver: this.repoResolver ?? getDefaultRepoResolver(),
          signal,
          logger: this.logger,
        });
        this.registerComponent(name, component, pin);
        report.loaded.push(name);
      } catch (error) {
        // A component the memory budget refused is not kept: free its sessions now.
        if (error instanceof MemoryBudgetError && isOffloadable(component)) await component.offload();
        report.failed.push({ name, error });
        this.logger.warn(`loadComponents: failed to load '${name}' (${spec.loadId}): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (report.failed.length > 0 && onError === 'throw') {
      // Components that failed for the same root cause (a device without its provider, say) share one
      // message, so its remedy is printed once; a failure of its own keeps its full message.
      const rootOf = (error: unknown): string => {
        let e = error;
        while (e instanceof Error && e.cause instanceof Error) e = e.cause;
        return e instanceof Error ? e.message : String(e);
      };
      const counts = new Map<string, number>();
      for (const f of report.failed) counts.set(rootOf(f.error), (counts.get(rootOf(f.error)) ?? 0) + 1);
      const byMessage = new Map<string, string[]>();
      for (const f of report.failed) {
        const root = rootOf(f.error);
        const message = (counts.get(root) ?? 0) > 1 ? root : f.error instanceof Error ? f.error.message : String(f.error);
        byMessage.set(message, [...(byMessage.get(message) ?? []), `'${f.name}'`]);
      }
      const detail = [...byMessage].map(([message, names]) => `${names.join(', ')}: ${message}`).join('; ');
      throw new ComponentLoadError(`Failed to load ${report.failed.length} component(s): ${detail}`, report.failed, {
        cause: report.failed[0]?.error,
      });
    }
    return report;
  }

  /**
   * Replaces components and config values: `{ unet: myUnet, guider: spec,
   * requires_aesthetics_score: true }`. A component's spec is rewritten to
   * describe the new object; a ComponentSpec value must be from-config and is
   * created; null unloads. Unknown names are warned about and ignored.
   */
  updateComponents(updates: Record<string, unknown>): void {
    const unknown: string[] = [];
    for (const [name, value] of Object.entries(updates)) {
      if (this.componentSpecs.has(name)) {
        const current = this.componentSpecs.get(name)!;
        if (value === null || value === undefined) {
          this.unloadComponents(name);
          continue;
        }
        if (value instanceof ComponentSpec) {
          if (value.defaultCreationMethod !== 'fromConfig') {
            throw new InvalidArgumentError(
              `updateComponents: '${name}' got a fromPretrained ComponentSpec; load it first (await spec.load()) and pass the object, or pass a fromConfig spec.`,
            );
          }
          const spec = value.clone({ name });
          this.componentSpecs.set(name, spec);
          this.registerComponents({ [name]: spec.create(null, { registry: this.loaderRegistry, logger: this.logger }) });
          continue;
        }
        const loadId = getLoadId(value);
        // A model of unknown origin in a from-pretrained slot stays from-pretrained with no source
        // (diffusers' update_components), so savePretrained keeps its index entry and can point it at
        // the saved folder, instead of turning it into a from-config entry that the index drops.
        const unknownOrigin = current.defaultCreationMethod === 'fromPretrained' && loadId === null;
        let spec: ComponentSpec | null = null;
        if (!unknownOrigin) {
          try {
            spec = ComponentSpec.fromComponent(name, value);
            spec.description = current.description;
            spec.library = current.library;
          } catch {
            // An object of unknown origin: keep the slot's creation method, forget the source (below).
          }
        }
        spec ??= current.clone({
          type: ComponentSpec.fromComponentType(value) ?? current.type,
          pretrainedModelNameOrPath: null,
          subfolder: null,
          variant: null,
          revision: null,
          config: null,
        });
        if (spec.defaultCreationMethod !== current.defaultCreationMethod) {
          this.logger.info(`updateComponents: '${name}' changes from ${current.defaultCreationMethod} to ${spec.defaultCreationMethod}.`);
        }
        this.componentSpecs.set(name, spec);
        this.registerComponents({ [name]: value });
      } else if (this.configSpecs.has(name)) {
        this.configSpecs.set(name, this.configSpecs.get(name)!.with({ default: value }));
        this.config[name] = value;
      } else {
        unknown.push(name);
      }
    }
    if (unknown.length > 0) {
      this.logger.warn(
        `updateComponents: ${unknown.map((n) => `'${n}'`).join(', ')} is neither a component nor a config of this pipeline and was ignored. ` +
          `Components: ${this.componentNames.join(', ') || '(none)'}; configs: ${[...this.configSpecs.keys()].join(', ') || '(none)'}.`,
      );
    }
  }

  /** Sets components back to null (keeping their specs, so they can be loaded again). */
  /**
   * diffusers' `pipeline.to("cuda")`: re-creates every model component's sessions on `device`
   * ('cpu' | 'cuda' | 'webgpu' | 'auto'). Resolves to the (callable) pipeline, so
   * `pipeline = await pipeline.to('cuda')` reads as in the guide.
   */
  async to(device: string): Promise<this> {
    checkDevice(device, 'pipeline.to');
    for (const component of Object.values(this.components)) {
      if (isOffloadable(component)) await component.ensureResident(device);
    }
    return ((this as unknown as Record<symbol, unknown>)[CALLABLE] as this | undefined) ?? this;
  }

  unloadComponents(names: string | readonly string[]): void {
    if (typeof names !== 'string' && !Array.isArray(names)) {
      throw new InvalidArgumentError(`Invalid type for names: expected a component name or a list of names, got ${typeof names}.`);
    }
    for (const name of typeof names === 'string' ? [names] : names) {
      if (!this.componentSpecs.has(name)) {
        this.logger.warn(`unloadComponents: unknown component '${name}' ignored.`);
        continue;
      }
      const component = this.componentValues.get(name);
      this.componentValues.set(name, null);
      if (component != null && this.componentsManager) {
        const id = this.componentsManager.idOf(component, name);
        if (id) {
          if (this.collection) this.componentsManager.removeFromCollection(id, this.collection);
          else this.componentsManager.remove(id);
        }
      }
    }
  }

  /** Sets component objects; from-pretrained ones are also added to the components manager. */
  registerComponents(components: Record<string, unknown>): void {
    for (const [name, component] of Object.entries(components)) this.registerComponent(name, component, undefined);
  }

  /** Takes component sources and config values from a parsed model index (for components not loaded yet). */
  applyModelIndex(index: Record<string, unknown>): ModelIndexInfo {
    const info = parseModelIndex(index, { repo: this.pretrainedModelNameOrPath });
    for (const fromIndex of info.components) {
      const current = this.componentSpecs.get(fromIndex.name);
      if (!current || this.componentValues.get(fromIndex.name) != null) continue;
      this.assumedSources.delete(fromIndex.name);
      this.componentSpecs.set(
        fromIndex.name,
        fromIndex.clone({
          type: fromIndex.type ?? current.type,
          library: fromIndex.library ?? current.library,
          description: current.description,
          config: current.config,
        }),
      );
    }
    for (const [name, value] of Object.entries(info.configs)) {
      const spec = this.configSpecs.get(name);
      if (!spec) continue;
      this.configSpecs.set(name, spec.with({ default: value }));
      this.config[name] = value;
    }
    this.modelIndexInfo = info;
    return info;
  }

  /** The `modular_model_index.json` content describing this pipeline now. */
  toModelIndex(): Record<string, unknown> {
    return buildModelIndex({
      className: this.className,
      blocksClassName: this.blocks.className,
      specs: [...this.componentSpecs.values()],
      configs: { ...this.config },
      loaded: this.components,
      // A modular index that was read keeps its version on re-save; a standard model_index.json is another format.
      diffusersVersion: this.modelIndexInfo?.blocksClassName ? this.modelIndexInfo.diffusersVersion : null,
    });
  }

  // ---- running ----------------------------------------------------------------------------

  /**
   * Runs the blocks. Inputs no block declares are reported (a warning, or
   * an UnexpectedInputError in strict mode). `output` picks what comes back:
   * undefined the whole PipelineState, a name its value, a list a record.
   */
  run(inputs: RunInputs & { output: string }, options?: RunOptions): Promise<any>;
  run(inputs: RunInputs & { output: readonly string[] }, options?: RunOptions): Promise<Record<string, any>>;
  run(inputs?: RunInputs, options?: RunOptions): Promise<any>;
  async run(inputs: RunInputs = {}, options: RunOptions = {}): Promise<unknown> {
    RUN_OPTIONS.check(options);
    options ??= {};
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new InvalidArgumentError(`pipeline.run(inputs): inputs must be an object of pipeline inputs by name, got ${Array.isArray(inputs) ? 'an array' : inputs === null ? 'null' : typeof inputs}.`);
    }
    const { output, state: given, ...values } = inputs;
    const strict = options.strict ?? this.strict;
    const state = given instanceof PipelineState ? given.copy() : new PipelineState();
    if (given !== undefined && !(given instanceof PipelineState)) {
      throw new InvalidArgumentError("run({ state }): 'state' must be a PipelineState from an earlier run.");
    }
    state.context = {
      signal: options.signal,
      onProgress: options.onProgress,
      strict,
      logger: this.logger,
      declarations: new WeakMap(),
      ...(this.componentsManager ? { beforeBlock: (block: ModularPipelineBlocks, name: string) => this.prepareBlock(block, name) } : {}),
    };

    const remaining = new Map(Object.entries(values));
    for (const param of this.blocks.declarationsIn(state).allInputs) {
      if (param.name) {
        if (remaining.has(param.name)) {
          state.set(param.name, remaining.get(param.name));
          remaining.delete(param.name);
        } else if (!state.has(param.name)) {
          state.set(param.name, param.default);
        }
      } else if (param.kwargsType && remaining.has(param.kwargsType)) {
        const group = remaining.get(param.kwargsType);
        if (group !== null && typeof group === 'object') {
          for (const [key, value] of Object.entries(group)) state.set(key, value, param.kwargsType);
        }
        remaining.delete(param.kwargsType);
      }
    }
    if (remaining.size > 0) {
      const error = new UnexpectedInputError([...remaining.keys()], `${this.className} (${this.blocks.className})`);
      if (strict) throw error;
      this.logger.warn(error.message);
    }

    throwIfAborted(options.signal, 'before it started');
    this.blocks.validateInputs(this as PipelineComponents, state);
    // Bounded before anything is allocated: a run whose tensors would not fit is refused here.
    checkRunMemory(this as PipelineComponents, this.blocks.modelName, state, options.maxMemory ?? this.maxMemory);
    // A component larger than the memory budget fails here, before any model has run.
    this.componentsManager?.checkMemoryBudget([...this.componentValues.values()]);
    if (!this.blocks.isComposite) await this.prepareBlock(this.blocks, this.blocks.className);
    await this.blocks.call(this as PipelineComponents, state);
    return selectOutput(state, output);
  }

  toString(): string {
    return `${this.className} ${JSON.stringify(this.toModelIndex(), null, 2)}`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // ---- internals --------------------------------------------------------------------------

  /** The manager sees it first, so a component its memory budget refuses is never set on the pipeline. */
  private registerComponent(name: string, component: unknown, pin: string | null | undefined): void {
    const spec = this.componentSpecs.get(name);
    if (!spec) {
      this.logger.warn(`registerComponents: skipping unknown component '${name}'.`);
      return;
    }
    if (component != null && spec.defaultCreationMethod === 'fromPretrained' && this.componentsManager) {
      this.componentsManager.add(name, component, {
        collection: this.collection,
        loadId: spec.pretrainedModelNameOrPath ? spec.loadId : null,
        ...(pin ? { device: pin } : {}),
      });
    }
    this.componentValues.set(name, component);
  }

  /**
   * Before a block runs under auto offload: a leaf's declared components (a
   * loop's own loop components) are made resident; composites are left to
   * their sub-blocks, which get here too.
   */
  private async prepareBlock(block: ModularPipelineBlocks, name: string): Promise<void> {
    const manager = this.componentsManager;
    if (!manager?.autoOffload) return;
    const loopSpecs = (block as { loopExpectedComponents?: ComponentSpec[] }).loopExpectedComponents;
    const specs = !block.isComposite ? block.expectedComponents : Array.isArray(loopSpecs) ? loopSpecs : null;
    if (!specs || specs.length === 0) return;
    await manager.prepareForBlock(
      specs.map((s) => this.componentValues.get(s.name)),
      `block '${name}' (${block.className})`,
    );
  }

  /** `perComponent` names components of this pipeline, each with loader options only. */
  private checkPerComponent(perComponent: unknown): void {
    if (perComponent === undefined || perComponent === null) return;
    if (typeof perComponent !== 'object' || Array.isArray(perComponent)) {
      throw new InvalidArgumentError('pipeline.loadComponents: perComponent must be an object of loader options by component name, e.g. { vae: { device: \'cpu\' } }.');
    }
    for (const [name, entry] of Object.entries(perComponent)) {
      if (!this.componentSpecs.has(name)) {
        const near = nearestKey(name, this.componentNames);
        throw new InvalidArgumentError(
          `pipeline.loadComponents: perComponent names '${name}', which is not a component of this pipeline.` +
            (near ? ` Did you mean '${near}'?` : '') +
            ` Its components are: ${this.componentNames.join(', ') || '(none)'}.`,
        );
      }
      COMPONENT_LOADER_OPTIONS.check(entry, `pipeline.loadComponents perComponent.${name}`);
    }
  }

  private createFromConfig(spec: ComponentSpec): unknown {
    try {
      return spec.create(null, { registry: this.loaderRegistry, logger: this.logger });
    } catch (error) {
      if (!(error instanceof LoaderNotFoundError)) throw error;
      this.logger.warn(`Component '${spec.name}' was left unset: ${error.message}`);
      return null;
    }
  }

  private sharedComponent(spec: ComponentSpec, options: Record<string, unknown>): unknown {
    const manager = this.componentsManager;
    if (!manager) return undefined;
    const fields = ['repo', 'pretrainedModelNameOrPath', 'subfolder', 'variant', 'revision'];
    if (fields.some((f) => options[f] !== undefined)) return undefined;
    const ids = manager.findByLoadId(spec.loadId);
    return ids.length > 0 ? manager.get(ids[0]!) : undefined;
  }

  /**
   * True when the caller names a repo (no subfolder) for a component whose `<repo>/<name>` folder
   * was only assumed, and that repo has no `<name>/` folder: a model repo published on its own
   * (diffusers/controlnet-canny-sdxl-1.0 keeps config.json at its root) is then read from its root,
   * as `loadComponents('controlnet', { repo })` means; the assumed layout was the pipeline repo's.
   */
  private async namedRepoHasComponentAtRoot(spec: ComponentSpec, options: Record<string, unknown>, signal: AbortSignalLike | undefined): Promise<boolean> {
    const named = options.pretrainedModelNameOrPath ?? options.repo;
    if (!this.assumedSources.has(spec.name) || typeof named !== 'string' || options.subfolder !== undefined || !spec.subfolder) return false;
    const resolver = this.repoResolver ?? getDefaultRepoResolver();
    if (!resolver?.exists) return false;
    const revision = (options.revision as string | null | undefined) ?? spec.revision;
    return !(await resolver.exists({ repo: named, subfolder: spec.subfolder, revision, variant: spec.variant }, { signal }));
  }

  /** True when `spec`'s source is only assumed and the resolver says that folder is not in the repo. */
  private async absentFromRepo(spec: ComponentSpec, signal: AbortSignalLike | undefined): Promise<boolean> {
    if (!this.assumedSources.has(spec.name)) return false;
    const resolver = this.repoResolver ?? getDefaultRepoResolver();
    if (!resolver?.exists || !spec.pretrainedModelNameOrPath) return false;
    const location = { repo: spec.pretrainedModelNameOrPath, subfolder: spec.subfolder, revision: spec.revision, variant: spec.variant };
    return !(await resolver.exists(location, { signal }));
  }

  private async readModelIndexOnce(signal: AbortSignalLike | undefined): Promise<void> {
    if (this.modelIndexRead || !this.pretrainedModelNameOrPath) return;
    const resolver = this.repoResolver ?? getDefaultRepoResolver();
    if (!resolver?.readModelIndex) return;
    const index = await resolver.readModelIndex(this.pretrainedModelNameOrPath, { signal });
    this.modelIndexRead = true;
    if (index) this.applyModelIndex(index);
  }

  private defineComponentProperty(name: string): void {
    if (name in this) {
      throw new BlockDefinitionError(
        `Component name '${name}' clashes with a ModularPipeline member of the same name; rename the ComponentSpec in the block that declares it.`,
      );
    }
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => {
        const component = this.componentValues.get(name);
        if (component != null) this.componentsManager?.notifyBeforeUse(component);
        return component;
      },
      set: (value: unknown) => this.updateComponents({ [name]: value }),
    });
  }
}

function selectOutput(state: PipelineState, output: string | readonly string[] | undefined): unknown {
  if (output === undefined || output === null) return state;
  const missing = (name: string) =>
    new NotFoundError(`Output '${name}' is not in the pipeline state. Available: ${state.keys().join(', ')}.`);
  if (typeof output === 'string') {
    if (!state.has(output)) throw missing(output);
    return state.get(output);
  }
  if (Array.isArray(output)) {
    for (const name of output) if (!state.has(name)) throw missing(name);
    return state.get(output);
  }
  throw new InvalidArgumentError(`output must be a name or a list of names, got ${typeof output}.`);
}

/**
 * Wraps the pipeline in a function proxy so `await pipeline({ ... })` runs
 * it, while property access, `instanceof` and methods behave as on the
 * instance itself.
 */
/** Where an instance keeps its callable proxy, so methods bound to the instance can hand the proxy back. */
const CALLABLE = Symbol('modular-diffusers.callable');

function makeCallable<P extends ModularPipeline>(instance: P): P & CallablePipeline {
  const target = ((...args: unknown[]) => (instance.run as (...a: unknown[]) => unknown)(...args)) as unknown as object;
  // Node's inspect looks at a proxy's target, so the target carries the printout.
  Object.defineProperty(target, inspectSymbol, { value: () => instance.toString(), configurable: true });
  const bound = new Map<unknown, unknown>();
  const proxy = new Proxy(target, {
    apply: (_t, _this, args: unknown[]) => (instance.run as (...a: unknown[]) => unknown).apply(instance, args),
    get: (_t, prop) => {
      const value = Reflect.get(instance, prop, instance);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      if (!bound.has(value)) bound.set(value, (value as (...a: unknown[]) => unknown).bind(instance));
      return bound.get(value);
    },
    set: (_t, prop, value) => Reflect.set(instance, prop, value, instance),
    has: (_t, prop) => Reflect.has(instance, prop),
    ownKeys: () => Reflect.ownKeys(instance),
    getOwnPropertyDescriptor: (_t, prop) => Reflect.getOwnPropertyDescriptor(instance, prop),
    defineProperty: (_t, prop, descriptor) => Reflect.defineProperty(instance, prop, descriptor),
    deleteProperty: (_t, prop) => Reflect.deleteProperty(instance, prop),
    getPrototypeOf: () => Object.getPrototypeOf(instance),
    setPrototypeOf: () => false,
  }) as P & CallablePipeline;
  Object.defineProperty(instance, CALLABLE, { value: proxy, configurable: true });
  return proxy;
}

/** Builds the pipeline for `blocks`: the class registered for its model name, or ModularPipeline. */
export function createPipeline(blocks: ModularPipelineBlocks, repo: string | null, options: InitPipelineOptions): ModularPipeline & CallablePipeline {
  const PipelineClass = options.pipelineClass ?? getPipelineClass(blocks.modelName) ?? ModularPipeline;
  return new PipelineClass(blocks, repo, options) as ModularPipeline & CallablePipeline;
}

installModularPipelineAliases(ModularPipeline.prototype);
