import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ComponentSpec } from '../components/component-spec.js';
import { isOffloadable } from '../components/offloadable-component.js';
import { checkDevice, type ComponentsManager } from '../components/components-manager.js';
import { defaultLoaderRegistry, type ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { ModelIndexInfo } from '../components/model-index.js';
import type { RepoResolver } from '../components/repo-resolver.js';
import { getPretrainedHook, getPretrainedHooks, type SavePretrainedResult } from '../hub/pretrained-hooks.js';
import { getLogger, type Logger } from '../logger.js';
import { inspectSymbol } from '../util/inspect.js';
import { installModularPipelineAliases } from '../compat/modular-pipeline-compat.js';
import { localBlocksRunner, type BlocksRunner, type RunTarget } from './blocks-runner.js';
import { callable, callableFormOf, type CallableOf, type CallablePipeline } from './callable-pipeline.js';
import { ComponentLoadService, type LoadComponentsTarget, type LoadReport } from './component-loading.js';
import { PipelineComponentStore } from './pipeline-component-store.js';
import { getPipelineClass } from './pipeline-classes.js';
import { PipelineLoader } from './pipeline-loader.js';
import {
  INIT_PIPELINE_OPTIONS,
  PIPELINE_FROM_PRETRAINED_OPTIONS,
  RUN_OPTIONS,
  SAVE_PRETRAINED_OPTIONS,
  type InitPipelineOptions,
  type PipelineConstructor,
  type PipelineFromPretrainedOptions,
  type RunOptions,
  type SavePretrainedOptions,
} from './pipeline-options.js';
import { LOAD_COMPONENTS_OPTIONS, type LoadComponentsOptions } from '../components/component-load-options.js';
import { parseMaxMemory } from './run-memory.js';
import { checkRunInputs, type RunInputsFor, type RunResultFor, type UntypedOutputs } from './run-result.js';

export type { InitPipelineOptions, PipelineConstructor, RunOptions, LoadComponentsOptions };
export type { LoadReport, LoadComponentsTarget } from './component-loading.js';
export type { PipelineComponents } from './pipeline-components.js';
export type { CallablePipeline } from './callable-pipeline.js';
export type { OutputChoice, OutputAskedBy, OutputsGiven, RunInputs, RunInputsFor, RunResult, RunResultFor, OutputValue, UntypedOutputs } from './run-result.js';

/**
 * What every pipeline is, local or remote: components (held and loaded), blocks, and a run
 * whose result is typed by the pipeline's outputs `Out`.
 */
export interface Pipeline<Out extends object = UntypedOutputs, In extends object = {}> {
  readonly blocks: ModularPipelineBlocks;
  readonly className: string;
  readonly pretrainedModelNameOrPath: string | null;
  readonly config: Record<string, unknown>;
  readonly components: Record<string, unknown>;
  readonly componentNames: string[];
  readonly doc: string;
  getComponentSpec(name: string): ComponentSpec;
  loadComponents(target?: LoadComponentsTarget, options?: LoadComponentsOptions): Promise<LoadReport>;
  updateComponents(updates: Record<string, unknown>): void;
  unloadComponents(names: string | readonly string[]): void;
  toModelIndex(): Record<string, unknown>;
  savePretrained(dir: string, options?: SavePretrainedOptions): Promise<SavePretrainedResult>;
  run<const I extends RunInputsFor<In> = {}>(inputs?: I, options?: RunOptions): Promise<RunResultFor<Out, I>>;
}

/**
 * Blocks plus their components, split by concept: the components object
 * (`PipelineComponentStore`: specs, objects, configs, model index), the loader
 * service (`ComponentLoadService`), a blocks runner (local here, a sandbox for
 * remote code) and output selection. Components are properties
 * (`pipeline.unet`), which is how blocks reach them; config values are on
 * `pipeline.config`. `initPipeline`/`fromPretrained` return it callable
 * (`await pipeline({ prompt })`); see `callable()`.
 */
export class ModularPipeline<Out extends object = UntypedOutputs, In extends object = {}> implements Pipeline<Out, In> {
  /** Type-level only (never set): the output types `run` resolves to, read by `callable()`. */
  declare readonly '~outputs'?: Out;
  /** Type-level only (never set): the inputs whose types `run` checks, read by `callable()`. */
  declare readonly '~runInputs'?: In;

  readonly blocks: ModularPipelineBlocks;
  readonly pretrainedModelNameOrPath: string | null;
  readonly componentsManager: ComponentsManager | null;
  readonly collection: string | null;
  readonly loaderRegistry: ComponentLoaderRegistry;
  strict: boolean;
  /** The largest run this pipeline starts (see `maxMemory`); null for the default. */
  maxMemory: number | string | null;

  /** The components object: specs, objects and config values. */
  protected readonly store: PipelineComponentStore;
  protected readonly repoResolver: RepoResolver | null;
  protected readonly logger: Logger;
  private readonly loading: ComponentLoadService;
  private readonly runner: BlocksRunner;
  private cachedLoader: PipelineLoader | null = null;

  /**
   * `runner` runs the blocks (default: here, in this process); a remote pipeline passes the
   * sandbox's. Use `blocks.initPipeline()` for a callable pipeline.
   */
  constructor(blocks: ModularPipelineBlocks, repo: string | null = null, options: InitPipelineOptions = {}, runner: BlocksRunner = localBlocksRunner) {
    INIT_PIPELINE_OPTIONS.check(options);
    options ??= {};
    if (options.loadOptions) LOAD_COMPONENTS_OPTIONS.check(options.loadOptions, 'initPipeline loadOptions');
    this.blocks = blocks;
    this.pretrainedModelNameOrPath = repo;
    this.componentsManager = options.componentsManager ?? null;
    this.collection = options.collection ?? null;
    this.loaderRegistry = options.loaderRegistry ?? defaultLoaderRegistry;
    this.repoResolver = options.repoResolver ?? null;
    this.maxMemory = options.maxMemory ?? null;
    if (this.maxMemory !== null) parseMaxMemory(this.maxMemory);
    this.strict = options.strict ?? false;
    this.logger = options.logger ?? getLogger();
    this.runner = runner;
    const settings = { componentsManager: this.componentsManager, collection: this.collection, loaderRegistry: this.loaderRegistry, logger: this.logger };
    this.store = new PipelineComponentStore(settings, blocks, repo, options.modelIndex ?? null);
    this.loading = new ComponentLoadService(this.store, blocks, repo, this.repoResolver, { ...options.loadOptions }, Boolean(options.modelIndex));
    this.store.defineProperties(this);
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

  /** The pipeline class's name, or the one its runner reports (a remote pipeline's class in the sandbox). */
  get className(): string {
    return this.runner.pipelineClassName ?? this.constructor.name;
  }

  /** Pipeline config values, e.g. `config.requires_aesthetics_score`. */
  get config(): Record<string, unknown> {
    return this.store.config;
  }

  /** What the applied model index said, if one was read. */
  get modelIndexInfo(): ModelIndexInfo | null {
    return this.store.modelIndexInfo;
  }

  /** The resolver this pipeline loads repos through (initPipeline's `repoResolver`, else the default one); null when there is none. */
  get resolver(): RepoResolver | null {
    return this.loading.resolver;
  }

  // ---- components -------------------------------------------------------------------------

  /** Every component by name (null for one not loaded yet). */
  get components(): Record<string, unknown> {
    return this.store.all;
  }

  get componentNames(): string[] {
    return this.store.names;
  }

  /** Components that still need loading (or creating). */
  get nullComponentNames(): string[] {
    return [...this.store.values].filter(([, v]) => v === null || v === undefined).map(([k]) => k);
  }

  get pretrainedComponentNames(): string[] {
    return [...this.store.specs.values()].filter((s) => s.defaultCreationMethod === 'fromPretrained').map((s) => s.name);
  }

  get configComponentNames(): string[] {
    return [...this.store.specs.values()].filter((s) => s.defaultCreationMethod === 'fromConfig').map((s) => s.name);
  }

  /** A copy of the spec of component `name`. */
  getComponentSpec(name: string): ComponentSpec {
    return this.store.getSpec(name);
  }

  /** The object of component `name` (null when not loaded); the type is the caller's claim. */
  getComponent<T = unknown>(name: string): T {
    if (!this.store.has(name)) this.store.getSpec(name);
    return this.store.values.get(name) as T;
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
  loadComponents(namesOrOptions: LoadComponentsTarget = null, options: LoadComponentsOptions = {}): Promise<LoadReport> {
    return this.loading.load(namesOrOptions, options);
  }

  /**
   * Replaces components and config values: `{ unet: myUnet, guider: spec,
   * requires_aesthetics_score: true }`. A component's spec is rewritten to
   * describe the new object; a ComponentSpec value must be from-config and is
   * created; null unloads. Unknown names are warned about and ignored.
   */
  updateComponents(updates: Record<string, unknown>): void {
    this.store.update(updates);
  }

  /** Sets components back to null (keeping their specs, so they can be loaded again). */
  unloadComponents(names: string | readonly string[]): void {
    this.store.unload(names);
  }

  /** Sets component objects; from-pretrained ones are also added to the components manager. */
  registerComponents(components: Record<string, unknown>): void {
    this.store.register(components);
  }

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
    return callableFormOf(this) ?? this;
  }

  /** Takes component sources and config values from a parsed model index (for components not loaded yet). */
  applyModelIndex(index: Record<string, unknown>): ModelIndexInfo {
    return this.store.applyModelIndex(index);
  }

  /** The `modular_model_index.json` content describing this pipeline now. */
  toModelIndex(): Record<string, unknown> {
    return this.store.toModelIndex(this.className, this.blocks.className);
  }

  // ---- running ----------------------------------------------------------------------------

  /**
   * Runs the blocks. Inputs no block declares are reported (a warning, or
   * an UnexpectedInputError in strict mode). `output` picks what comes back:
   * undefined the whole PipelineState, a name its value, a list a record.
   */
  async run<const I extends RunInputsFor<In> = {}>(inputs?: I, options?: RunOptions): Promise<RunResultFor<Out, I>> {
    RUN_OPTIONS.check(options);
    const given: unknown = inputs ?? {};
    checkRunInputs(given);
    return this.runner.run(this.runTarget(), given, options ?? {}) as Promise<RunResultFor<Out, I>>;
  }

  toString(): string {
    return `${this.className} ${JSON.stringify(this.toModelIndex(), null, 2)}`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  // ---- internals --------------------------------------------------------------------------

  private runTarget(): RunTarget {
    return {
      blocks: this.blocks,
      componentsView: this,
      label: `${this.className} (${this.blocks.className})`,
      strict: this.strict,
      logger: this.logger,
      maxMemory: this.maxMemory,
      componentsManager: this.componentsManager,
      prepareBlock: (block, name) => this.prepareBlock(block, name),
    };
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
      specs.map((s) => this.store.values.get(s.name)),
      `block '${name}' (${block.className})`,
    );
  }
}

/** initPipeline's options, with `pipelineClass` typing the pipeline it builds. */
export type InitPipelineOptionsFor<P extends ModularPipeline> = Omit<InitPipelineOptions, 'pipelineClass'> & { pipelineClass?: PipelineConstructor<P> };

/** Builds the (callable) pipeline for `blocks`: the class registered for its model name, or ModularPipeline. */
export function createPipeline<P extends ModularPipeline = ModularPipeline>(
  blocks: ModularPipelineBlocks,
  repo: string | null,
  options: InitPipelineOptionsFor<P>,
): P & CallableOf<P> {
  const PipelineClass = (options.pipelineClass ?? getPipelineClass(blocks.modelName) ?? ModularPipeline) as PipelineConstructor<P>;
  return callable(new PipelineClass(blocks, repo, options as InitPipelineOptions));
}

installModularPipelineAliases(ModularPipeline.prototype);
