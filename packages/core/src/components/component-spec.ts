import { COMPONENT_SPEC_LOAD_OPTIONS, type ComponentSpecLoadOptions } from './component-load-options.js';
import { ComponentLoadError, InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { typeHintName, type TypeHint } from '../params/type-hint.js';
import type { AbortSignalLike } from '../util/abort.js';
import { decodeLoadId, encodeLoadId, getLoadId, tagLoadId, type LoadFields } from './load-id.js';
import { defaultLoaderRegistry, type ComponentLoaderRegistry } from './loader-registry.js';
import type { RepoResolver } from './repo-resolver.js';

export type CreationMethod = 'fromConfig' | 'fromPretrained';

export interface ComponentSpecFields {
  name: string;
  /** A class name ('AutoencoderKL') or a class; the loader registry is keyed by its name. */
  type?: TypeHint;
  /** The library the type belongs to ('diffusers', 'transformers'), when known. */
  library?: string | null;
  description?: string;
  /** Config for `fromConfig` creation. */
  config?: Record<string, unknown> | null;
  /** Alias of `pretrainedModelNameOrPath`. */
  repo?: string | null;
  pretrainedModelNameOrPath?: string | null;
  subfolder?: string | null;
  variant?: string | null;
  revision?: string | null;
  defaultCreationMethod?: CreationMethod;
}

export interface CreateOptions {
  registry?: ComponentLoaderRegistry;
  logger?: Logger;
}

/** What `spec.load` takes (closed: see component-load-options.ts). Loading fields given here override (and are written back to) the spec. */
export type LoadOptions = ComponentSpecLoadOptions;

type SpecArgs = Omit<ComponentSpecFields, 'name' | 'type'>;

/**
 * What a block needs from a component and how to get it: load it from a repo
 * (`fromPretrained`, the default) or build it from a config (`fromConfig`).
 * Two specs are equal when name, load id and creation method match: the type
 * is a hint, as in diffusers.
 *
 * `new ComponentSpec('mask_processor', 'VaeImageProcessor', { config: {...}, defaultCreationMethod: 'fromConfig' })`
 */
export class ComponentSpec {
  name: string;
  type: TypeHint;
  library: string | null;
  description: string;
  config: Record<string, unknown> | null;
  pretrainedModelNameOrPath: string | null;
  subfolder: string | null;
  variant: string | null;
  revision: string | null;
  defaultCreationMethod: CreationMethod;

  constructor(name: string, type?: TypeHint, fields?: SpecArgs);
  constructor(fields: ComponentSpecFields);
  constructor(nameOrFields: string | ComponentSpecFields, type?: TypeHint, rest: SpecArgs = {}) {
    const fields: ComponentSpecFields = typeof nameOrFields === 'string' ? { ...rest, name: nameOrFields, type } : nameOrFields;
    if (typeof fields.name !== 'string' || fields.name === '') throw new InvalidArgumentError('A ComponentSpec needs a non-empty name.');
    if (fields.repo != null && fields.pretrainedModelNameOrPath != null && fields.repo !== fields.pretrainedModelNameOrPath) {
      throw new InvalidArgumentError(
        `ComponentSpec '${fields.name}' got repo '${fields.repo}' and pretrainedModelNameOrPath '${fields.pretrainedModelNameOrPath}'; they are the same field, pass one.`,
      );
    }
    const method = fields.defaultCreationMethod ?? 'fromPretrained';
    if (method !== 'fromConfig' && method !== 'fromPretrained') {
      throw new InvalidArgumentError(
        `ComponentSpec '${fields.name}': defaultCreationMethod must be 'fromConfig' or 'fromPretrained', got '${String(method)}'.`,
      );
    }
    this.name = fields.name;
    this.type = fields.type ?? null;
    this.library = fields.library ?? null;
    this.description = fields.description ?? '';
    this.config = fields.config ?? null;
    this.pretrainedModelNameOrPath = fields.pretrainedModelNameOrPath ?? fields.repo ?? null;
    this.subfolder = fields.subfolder ?? null;
    this.variant = fields.variant ?? null;
    this.revision = fields.revision ?? null;
    this.defaultCreationMethod = method;
  }

  get repo(): string | null {
    return this.pretrainedModelNameOrPath;
  }

  set repo(value: string | null) {
    this.pretrainedModelNameOrPath = value;
  }

  get typeName(): string {
    return typeHintName(this.type);
  }

  loadFields(): LoadFields {
    return {
      pretrainedModelNameOrPath: this.pretrainedModelNameOrPath,
      subfolder: this.subfolder,
      variant: this.variant,
      revision: this.revision,
    };
  }

  /** `repo|subfolder|variant|revision`, or `'null'` for a from-config component. */
  get loadId(): string {
    return this.defaultCreationMethod === 'fromConfig' ? 'null' : encodeLoadId(this.loadFields());
  }

  static decodeLoadId(loadId: string): LoadFields {
    return decodeLoadId(loadId);
  }

  equals(other: unknown): boolean {
    return (
      other instanceof ComponentSpec &&
      other.name === this.name &&
      other.loadId === this.loadId &&
      other.defaultCreationMethod === this.defaultCreationMethod
    );
  }

  clone(changes: Partial<ComponentSpecFields> = {}): ComponentSpec {
    const { repo, ...rest } = changes;
    return new ComponentSpec({
      name: this.name,
      type: this.type,
      library: this.library,
      description: this.description,
      config: this.config ? { ...this.config } : null,
      pretrainedModelNameOrPath: this.pretrainedModelNameOrPath,
      subfolder: this.subfolder,
      variant: this.variant,
      revision: this.revision,
      defaultCreationMethod: this.defaultCreationMethod,
      ...rest,
      ...(repo !== undefined ? { pretrainedModelNameOrPath: repo } : {}),
    });
  }

  /**
   * Builds the component from its config (`fromConfig`). `overrides` are
   * merged over the spec's config, e.g. `guider.create({ guidance_scale: 5 })`.
   */
  create(overrides: Record<string, unknown> | null = null, options: CreateOptions = {}): unknown {
    const registry = options.registry ?? defaultLoaderRegistry;
    const config = { ...(this.config ?? {}), ...(overrides ?? {}) };
    const component = registry.fromConfig(this, config, { logger: options.logger });
    tagLoadId(component, 'null');
    return component;
  }

  /**
   * Loads the component from its repo (`fromPretrained`) through the loader
   * registry. Loading fields in `options` override the spec and are kept, so
   * the spec always says where the loaded object came from.
   */
  async load(options: LoadOptions = {}): Promise<unknown> {
    COMPONENT_SPEC_LOAD_OPTIONS.check(options);
    const { registry, resolver, signal, logger, repo, pretrainedModelNameOrPath, subfolder, variant, revision, loaderOptions, ...rest } = options ?? {};
    const path = pretrainedModelNameOrPath ?? repo;
    if (path !== undefined) this.pretrainedModelNameOrPath = path;
    if (subfolder !== undefined) this.subfolder = subfolder;
    if (variant !== undefined) this.variant = variant;
    if (revision !== undefined) this.revision = revision;
    if (!this.pretrainedModelNameOrPath) {
      throw new ComponentLoadError(
        `Cannot load component '${this.name}': its spec has no repo. Pass one (spec.load({ repo: 'owner/name', subfolder: '${this.name}' })), ` +
          `init the pipeline from a repo whose modular_model_index.json lists it, or set the object with pipeline.updateComponents({ ${this.name}: ... }).`,
      );
    }
    const component = await (registry ?? defaultLoaderRegistry).fromPretrained(this, {
      // A custom loader's own settings (loaderOptions) reach it beside the declared ones.
      options: { ...loaderOptions, ...rest },
      resolver,
      signal,
      logger,
    });
    tagLoadId(component, this.loadId);
    return component;
  }

  /** The class of a component object, as a type hint (null for plain objects). */
  static fromComponentType(component: unknown): TypeHint {
    return componentClass(component);
  }

  /**
   * The spec that would give back `component`: a from-pretrained spec when
   * the engine knows where it was loaded from, else a from-config spec when
   * the object carries a `config`.
   */
  static fromComponent(name: string, component: unknown): ComponentSpec {
    const type = componentClass(component);
    const loadId = getLoadId(component);
    if (loadId !== null && loadId !== 'null') {
      return new ComponentSpec({ name, type, ...decodeLoadId(loadId), defaultCreationMethod: 'fromPretrained' });
    }
    const config = (component as { config?: unknown } | null)?.config;
    if (config !== null && typeof config === 'object') {
      return new ComponentSpec({ name, type, config: { ...(config as Record<string, unknown>) }, defaultCreationMethod: 'fromConfig' });
    }
    if (loadId === 'null') return new ComponentSpec({ name, type, defaultCreationMethod: 'fromConfig' });
    throw new InvalidArgumentError(
      `Cannot derive a ComponentSpec for '${name}': the object was not loaded through ComponentSpec.load() and has no 'config'. ` +
        `Load it with spec.load(...) so its origin is known, or give it a config object.`,
    );
  }
}

export function componentClass(component: unknown): TypeHint {
  if (component === null || component === undefined) return null;
  const ctor = (component as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor !== Object ? (ctor as TypeHint) : null;
}
