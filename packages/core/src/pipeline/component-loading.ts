/**
 * The loader service of a pipeline: reads the repo's model index once, then loads from-pretrained
 * components into a components object through the loader registry and the repo resolver,
 * reusing what a components manager already holds. It is the one place `loadComponents`
 * decides what to load, skip or fail.
 */
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import type { ComponentSpec } from '../components/component-spec.js';
import { COMPONENT_LOADER_OPTIONS, LOAD_COMPONENTS_OPTIONS, type ComponentLoaderOptions, type LoadComponentsOptions } from '../components/component-load-options.js';
import { MemoryBudgetError } from '../components/memory-budget.js';
import { isOffloadable } from '../components/offloadable-component.js';
import { getDefaultRepoResolver, type RepoResolver } from '../components/repo-resolver.js';
import { ComponentLoadError, InvalidArgumentError } from '../errors.js';
import { throwIfAborted, type AbortSignalLike } from '../util/abort.js';
import { nearestKey } from '../util/closed-options.js';
import type { PipelineComponentStore } from './pipeline-component-store.js';

export interface LoadReport {
  loaded: string[];
  /** Taken from the components manager because another pipeline had loaded the same load id. */
  reused: string[];
  skipped: Array<{ name: string; reason: string }>;
  failed: Array<{ name: string; error: unknown }>;
}

/** `loadComponents`' first argument: names, or (the guide's `load_components(torch_dtype=...)`) options only. */
export type LoadComponentsTarget = string | readonly string[] | LoadComponentsOptions | null;

export class ComponentLoadService {
  private modelIndexRead: boolean;

  constructor(
    private readonly store: PipelineComponentStore,
    private readonly blocks: ModularPipelineBlocks,
    private readonly repo: string | null,
    private readonly repoResolver: RepoResolver | null,
    private readonly defaultOptions: LoadComponentsOptions,
    modelIndexGiven: boolean,
  ) {
    this.modelIndexRead = modelIndexGiven;
  }

  /** The resolver loads go through: the pipeline's own, else the default one installed (by the hub package). */
  get resolver(): RepoResolver | null {
    return this.repoResolver ?? getDefaultRepoResolver();
  }

  /**
   * Loads from-pretrained components: with `names` null, every one that has
   * a repo and is not loaded yet. Components another pipeline on the same
   * ComponentsManager already loaded from the same load id are reused.
   */
  async load(namesOrOptions: LoadComponentsTarget = null, options: LoadComponentsOptions = {}): Promise<LoadReport> {
    const optionsOnly = namesOrOptions !== null && typeof namesOrOptions === 'object' && !Array.isArray(namesOrOptions);
    const names = optionsOnly ? null : (namesOrOptions as string | readonly string[] | null);
    if (optionsOnly) options = namesOrOptions as LoadComponentsOptions;
    LOAD_COMPONENTS_OPTIONS.check(options);
    this.checkPerComponent(options?.perComponent);
    const { signal, perComponent = {}, onError = 'throw', loaderOptions, workflow, ...named } = { ...this.defaultOptions, ...options };
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
    const store = this.store;
    const { logger, loaderRegistry } = store.settings;
    const inWorkflow = workflow === undefined ? null : new Set(this.blocks.getWorkflow(String(workflow)).expectedComponents.map((s) => s.name));
    await this.readModelIndexOnce(signal);
    const report: LoadReport = { loaded: [], reused: [], skipped: [], failed: [] };
    let targets: string[];
    if (names === null) {
      targets = [...store.specs.values()]
        .filter((s) => s.defaultCreationMethod === 'fromPretrained' && store.values.get(s.name) == null)
        .filter((s) => inWorkflow === null || inWorkflow.has(s.name))
        .map((s) => s.name);
    } else {
      const list = typeof names === 'string' ? [names] : [...names];
      const unknown = list.filter((n) => !store.has(n));
      if (unknown.length) logger.warn(`loadComponents: unknown components ignored: ${unknown.join(', ')}. Known: ${store.names.join(', ')}.`);
      targets = list.filter((n) => store.has(n));
    }
    try {
      for (const name of targets) {
        throwIfAborted(signal, `while loading components (before '${name}')`);
        const spec = store.specs.get(name)!;
        if (spec.defaultCreationMethod === 'fromConfig') {
          store.registerOne(name, spec.create(null, { registry: loaderRegistry, logger }), undefined);
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
          logger.info(`loadComponents: skipping '${name}': ${reason}.`);
          continue;
        }
        if (names === null && !perComponent[name] && (await this.absentFromRepo(spec, signal))) {
          // diffusers loads only what the index lists; a block's optional component (controlnet,
          // image_encoder) is not an error on a repo without it, only when a branch needs it.
          const reason = `the model index gives it no source and the repo has no '${spec.subfolder}/' folder; load it with { perComponent: { ${name}: { repo } } } for the branch that uses it`;
          report.skipped.push({ name, reason });
          logger.info(`loadComponents: skipping '${name}': ${reason}.`);
          continue;
        }
        if (names !== null && (await this.namedRepoHasComponentAtRoot(spec, perOptions, signal))) perOptions.subfolder = null;
        const pin = typeof perComponent[name]?.device === 'string' ? (perComponent[name]!.device as string) : null;
        let component: unknown = undefined;
        try {
          const shareable = this.sharedComponent(spec, perOptions);
          if (shareable !== undefined) {
            store.registerOne(name, shareable, pin);
            report.reused.push(name);
            continue;
          }
          component = await spec.load({
            ...(perOptions as ComponentLoaderOptions),
            ...(customOptions ? { loaderOptions: customOptions } : {}),
            registry: loaderRegistry,
            resolver: this.resolver,
            signal,
            logger,
          });
          store.registerOne(name, component, pin);
          report.loaded.push(name);
        } catch (error) {
          // A component the memory budget refused is not kept: free its sessions now.
          if (error instanceof MemoryBudgetError && isOffloadable(component)) await component.offload();
          report.failed.push({ name, error });
          logger.warn(`loadComponents: failed to load '${name}' (${spec.loadId}): ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    } finally {
      // Listeners (a remote pipeline re-offering components to its sandbox) hear of every load at once.
      store.changed([...report.loaded, ...report.reused]);
    }
    if (report.failed.length > 0 && onError === 'throw') throw loadFailure(report);
    return report;
  }

  /** `perComponent` names components of this pipeline, each with loader options only. */
  private checkPerComponent(perComponent: unknown): void {
    if (perComponent === undefined || perComponent === null) return;
    if (typeof perComponent !== 'object' || Array.isArray(perComponent)) {
      throw new InvalidArgumentError("pipeline.loadComponents: perComponent must be an object of loader options by component name, e.g. { vae: { device: 'cpu' } }.");
    }
    const names = this.store.names;
    for (const [name, entry] of Object.entries(perComponent)) {
      if (!this.store.has(name)) {
        const near = nearestKey(name, names);
        throw new InvalidArgumentError(
          `pipeline.loadComponents: perComponent names '${name}', which is not a component of this pipeline.` +
            (near ? ` Did you mean '${near}'?` : '') +
            ` Its components are: ${names.join(', ') || '(none)'}.`,
        );
      }
      COMPONENT_LOADER_OPTIONS.check(entry, `pipeline.loadComponents perComponent.${name}`);
    }
  }

  private sharedComponent(spec: ComponentSpec, options: Record<string, unknown>): unknown {
    const manager = this.store.settings.componentsManager;
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
    if (!this.store.assumedSources.has(spec.name) || typeof named !== 'string' || options.subfolder !== undefined || !spec.subfolder) return false;
    const resolver = this.resolver;
    if (!resolver?.exists) return false;
    const revision = (options.revision as string | null | undefined) ?? spec.revision;
    return !(await resolver.exists({ repo: named, subfolder: spec.subfolder, revision, variant: spec.variant }, { signal }));
  }

  /** True when `spec`'s source is only assumed and the resolver says that folder is not in the repo. */
  private async absentFromRepo(spec: ComponentSpec, signal: AbortSignalLike | undefined): Promise<boolean> {
    if (!this.store.assumedSources.has(spec.name)) return false;
    const resolver = this.resolver;
    if (!resolver?.exists || !spec.pretrainedModelNameOrPath) return false;
    const location = { repo: spec.pretrainedModelNameOrPath, subfolder: spec.subfolder, revision: spec.revision, variant: spec.variant };
    return !(await resolver.exists(location, { signal }));
  }

  private async readModelIndexOnce(signal: AbortSignalLike | undefined): Promise<void> {
    if (this.modelIndexRead || !this.repo) return;
    const resolver = this.resolver;
    if (!resolver?.readModelIndex) return;
    const index = await resolver.readModelIndex(this.repo, { signal });
    this.modelIndexRead = true;
    if (index) this.store.applyModelIndex(index);
  }
}

/**
 * Components that failed for the same root cause (a device without its provider, say) share one
 * message, so its remedy is printed once; a failure of its own keeps its full message.
 */
function loadFailure(report: LoadReport): ComponentLoadError {
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
  return new ComponentLoadError(`Failed to load ${report.failed.length} component(s): ${detail}`, report.failed, { cause: report.failed[0]?.error });
}
