/**
 * A pipeline's components object: the component specs and objects, the config values, and how
 * updating, registering, unloading and a model index change them. It knows nothing of blocks
 * running or of loading from a repo, so a local pipeline and a remote one (whose blocks run in a
 * sandbox) keep their components the same way.
 */
import type { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { ComponentSpec } from '../components/component-spec.js';
import type { ComponentsManager } from '../components/components-manager.js';
import type { ComponentLoaderRegistry } from '../components/loader-registry.js';
import { getLoadId } from '../components/load-id.js';
import { buildModelIndex, parseModelIndex, type ModelIndexInfo } from '../components/model-index.js';
import { BlockDefinitionError, InvalidArgumentError, LoaderNotFoundError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConfigSpec } from '../params/config-spec.js';

export interface ComponentStoreSettings {
  readonly componentsManager: ComponentsManager | null;
  readonly collection: string | null;
  readonly loaderRegistry: ComponentLoaderRegistry;
  readonly logger: Logger;
}

/** Called with the names whose objects changed (set, replaced or unloaded). */
export type ComponentChangeListener = (names: readonly string[]) => void;

export class PipelineComponentStore {
  readonly specs = new Map<string, ComponentSpec>();
  readonly configSpecs = new Map<string, ConfigSpec>();
  readonly values = new Map<string, unknown>();
  /** Config values by name, e.g. `requires_aesthetics_score`. */
  readonly config: Record<string, unknown> = {};
  /** What the applied model index said, if one was read. */
  modelIndexInfo: ModelIndexInfo | null = null;
  /** Components whose source is only the assumed `<repo>/<name>` layout: no index lists them. */
  readonly assumedSources = new Set<string>();
  private readonly listeners: ComponentChangeListener[] = [];

  constructor(
    readonly settings: ComponentStoreSettings,
    blocks: ModularPipelineBlocks,
    private readonly repo: string | null,
    modelIndex: Record<string, unknown> | null,
  ) {
    for (const spec of blocks.expectedComponents) this.specs.set(spec.name, spec.clone());
    for (const spec of blocks.expectedConfigs) {
      this.configSpecs.set(spec.name, spec);
      this.config[spec.name] = spec.default;
    }
    if (modelIndex) {
      this.applyModelIndex(modelIndex);
    } else if (repo) {
      // Until the repo's index is read, assume the standard layout: each component in `<repo>/<name>`.
      for (const spec of this.specs.values()) {
        if (spec.defaultCreationMethod === 'fromPretrained' && !spec.pretrainedModelNameOrPath) {
          spec.pretrainedModelNameOrPath = repo;
          spec.subfolder ??= spec.name;
          this.assumedSources.add(spec.name);
        }
      }
    }
    for (const [name, spec] of this.specs) {
      this.values.set(name, spec.defaultCreationMethod === 'fromConfig' ? this.createFromConfig(spec) : null);
    }
  }

  onChange(listener: ComponentChangeListener): void {
    this.listeners.push(listener);
  }

  get names(): string[] {
    return [...this.specs.keys()];
  }

  /** Every component by name (null for one not loaded yet). */
  get all(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  /** A copy of the spec of component `name`. */
  getSpec(name: string): ComponentSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new NotFoundError(`No component '${name}' in this pipeline. Its components are: ${this.names.join(', ') || '(none)'}.`);
    return spec.clone();
  }

  /** The object of component `name`, telling the components manager it is about to be used. */
  use(name: string): unknown {
    const component = this.values.get(name);
    if (component != null) this.settings.componentsManager?.notifyBeforeUse(component);
    return component;
  }

  /** Sets component objects; from-pretrained ones are also added to the components manager. */
  register(components: Record<string, unknown>): void {
    const names: string[] = [];
    for (const [name, component] of Object.entries(components)) if (this.registerOne(name, component, undefined)) names.push(name);
    this.changed(names);
  }

  /** The manager sees it first, so a component its memory budget refuses is never set. */
  registerOne(name: string, component: unknown, pin: string | null | undefined): boolean {
    const spec = this.specs.get(name);
    if (!spec) {
      this.settings.logger.warn(`registerComponents: skipping unknown component '${name}'.`);
      return false;
    }
    const manager = this.settings.componentsManager;
    if (component != null && spec.defaultCreationMethod === 'fromPretrained' && manager) {
      manager.add(name, component, {
        collection: this.settings.collection,
        loadId: spec.pretrainedModelNameOrPath ? spec.loadId : null,
        ...(pin ? { device: pin } : {}),
      });
    }
    this.values.set(name, component);
    return true;
  }

  /** Tells the listeners that components were set outside `register` (a load). */
  changed(names: readonly string[]): void {
    if (names.length === 0) return;
    for (const listener of this.listeners) listener(names);
  }

  /**
   * Replaces components and config values: `{ unet: myUnet, guider: spec,
   * requires_aesthetics_score: true }`. A component's spec is rewritten to
   * describe the new object; a ComponentSpec value must be from-config and is
   * created; null unloads. Unknown names are warned about and ignored.
   */
  update(updates: Record<string, unknown>): void {
    const unknown: string[] = [];
    const { logger, loaderRegistry } = this.settings;
    for (const [name, value] of Object.entries(updates)) {
      if (this.specs.has(name)) {
        const current = this.specs.get(name)!;
        if (value === null || value === undefined) {
          this.unload(name);
          continue;
        }
        if (value instanceof ComponentSpec) {
          if (value.defaultCreationMethod !== 'fromConfig') {
            throw new InvalidArgumentError(
              `updateComponents: '${name}' got a fromPretrained ComponentSpec; load it first (await spec.load()) and pass the object, or pass a fromConfig spec.`,
            );
          }
          const spec = value.clone({ name });
          this.specs.set(name, spec);
          this.register({ [name]: spec.create(null, { registry: loaderRegistry, logger }) });
          continue;
        }
        this.specs.set(name, this.specFor(name, value, current));
        this.register({ [name]: value });
      } else if (this.configSpecs.has(name)) {
        this.configSpecs.set(name, this.configSpecs.get(name)!.with({ default: value }));
        this.config[name] = value;
      } else {
        unknown.push(name);
      }
    }
    if (unknown.length > 0) {
      logger.warn(
        `updateComponents: ${unknown.map((n) => `'${n}'`).join(', ')} is neither a component nor a config of this pipeline and was ignored. ` +
          `Components: ${this.names.join(', ') || '(none)'}; configs: ${[...this.configSpecs.keys()].join(', ') || '(none)'}.`,
      );
    }
  }

  /** Sets components back to null (keeping their specs, so they can be loaded again). */
  unload(names: string | readonly string[]): void {
    if (typeof names !== 'string' && !Array.isArray(names)) {
      throw new InvalidArgumentError(`Invalid type for names: expected a component name or a list of names, got ${typeof names}.`);
    }
    const done: string[] = [];
    const manager = this.settings.componentsManager;
    for (const name of typeof names === 'string' ? [names] : names) {
      if (!this.specs.has(name)) {
        this.settings.logger.warn(`unloadComponents: unknown component '${name}' ignored.`);
        continue;
      }
      const component = this.values.get(name);
      this.values.set(name, null);
      done.push(name);
      if (component != null && manager) {
        const id = manager.idOf(component, name);
        if (id) {
          if (this.settings.collection) manager.removeFromCollection(id, this.settings.collection);
          else manager.remove(id);
        }
      }
    }
    this.changed(done);
  }

  /** Takes component sources and config values from a parsed model index (for components not loaded yet). */
  applyModelIndex(index: Record<string, unknown>): ModelIndexInfo {
    const info = parseModelIndex(index, { repo: this.repo });
    for (const fromIndex of info.components) {
      const current = this.specs.get(fromIndex.name);
      if (!current || this.values.get(fromIndex.name) != null) continue;
      this.assumedSources.delete(fromIndex.name);
      this.specs.set(
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

  /** The `modular_model_index.json` content describing these components now. */
  toModelIndex(className: string, blocksClassName: string): Record<string, unknown> {
    return buildModelIndex({
      className,
      blocksClassName,
      specs: [...this.specs.values()],
      configs: { ...this.config },
      loaded: this.all,
      // A modular index that was read keeps its version on re-save; a standard model_index.json is another format.
      diffusersVersion: this.modelIndexInfo?.blocksClassName ? this.modelIndexInfo.diffusersVersion : null,
    });
  }

  /**
   * Makes every component a property of `host` (`pipeline.unet`), which is how blocks reach
   * them; setting one is `update({ [name]: value })`.
   */
  defineProperties(host: object): void {
    for (const name of this.specs.keys()) {
      if (name in host) {
        throw new BlockDefinitionError(
          `Component name '${name}' clashes with a ModularPipeline member of the same name; rename the ComponentSpec in the block that declares it.`,
        );
      }
      Object.defineProperty(host, name, {
        configurable: true,
        enumerable: true,
        get: () => this.use(name),
        set: (value: unknown) => this.update({ [name]: value }),
      });
    }
  }

  private specFor(name: string, value: unknown, current: ComponentSpec): ComponentSpec {
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
      this.settings.logger.info(`updateComponents: '${name}' changes from ${current.defaultCreationMethod} to ${spec.defaultCreationMethod}.`);
    }
    return spec;
  }

  private createFromConfig(spec: ComponentSpec): unknown {
    try {
      return spec.create(null, { registry: this.settings.loaderRegistry, logger: this.settings.logger });
    } catch (error) {
      if (!(error instanceof LoaderNotFoundError)) throw error;
      this.settings.logger.warn(`Component '${spec.name}' was left unset: ${error.message}`);
      return null;
    }
  }
}
