import { ComponentLoadError, LoaderNotFoundError } from '../errors.js';
import { getLogger, type Logger } from '../logger.js';
import type { AbortSignalLike } from '../util/abort.js';
import type { ComponentSpec } from './component-spec.js';
import { getDefaultRepoResolver, type RepoResolver, type ResolvedLocation } from './repo-resolver.js';

/** What a loader gets besides the spec. */
export interface LoaderContext {
  /** Loader options from the caller (dtype, device, ...). */
  options: Record<string, unknown>;
  resolver: RepoResolver | null;
  signal?: AbortSignalLike;
  registry: ComponentLoaderRegistry;
  logger: Logger;
  /** Resolves the spec's repo location with the resolver, with a clear error when there is none. */
  resolve(): Promise<ResolvedLocation>;
}

/**
 * Knows how to make components of one type. Core has no model code: the
 * runtime/sdxl packages register loaders for their types.
 */
export interface ComponentLoader {
  /** The class name the loader serves, as written in specs and model indexes. */
  type: string;
  /** Restricts the loader to specs of this library; null or absent serves any library. */
  library?: string | null;
  fromConfig?(config: Record<string, unknown>, spec: ComponentSpec, context: LoaderContext): unknown;
  fromPretrained?(spec: ComponentSpec, context: LoaderContext): Promise<unknown>;
}

interface ClassWithFactories {
  new (config?: Record<string, unknown>): unknown;
  fromConfig?(config: Record<string, unknown>, spec?: ComponentSpec, context?: LoaderContext): unknown;
  fromPretrained?(spec: ComponentSpec, context: LoaderContext): Promise<unknown>;
}

const ANY_LIBRARY = '*';

/**
 * Loaders by type name (and optionally library). A registry can have a
 * parent, so a pipeline can override a few loaders and fall back to the
 * global `defaultLoaderRegistry` for the rest.
 */
export class ComponentLoaderRegistry {
  private readonly loaders = new Map<string, ComponentLoader>();

  constructor(readonly parent: ComponentLoaderRegistry | null = null) {}

  register(loader: ComponentLoader): this {
    if (!loader || typeof loader.type !== 'string' || loader.type === '') {
      throw new TypeError('A component loader needs a non-empty `type` (the class name it serves).');
    }
    if (!loader.fromConfig && !loader.fromPretrained) {
      throw new TypeError(`Component loader '${loader.type}' needs fromConfig() and/or fromPretrained().`);
    }
    this.loaders.set(key(loader.type, loader.library), loader);
    return this;
  }

  unregister(type: string, library?: string | null): boolean {
    return this.loaders.delete(key(type, library));
  }

  /** The loader for `type`, preferring one registered for `library`, then any-library, then the parent's. */
  get(type: string, library?: string | null): ComponentLoader | undefined {
    return (
      (library ? this.loaders.get(key(type, library)) : undefined) ??
      this.loaders.get(key(type, null)) ??
      this.parent?.get(type, library)
    );
  }

  has(type: string, library?: string | null): boolean {
    return this.get(type, library) !== undefined;
  }

  list(): ComponentLoader[] {
    const own = [...this.loaders.values()];
    const inherited = this.parent?.list().filter((l) => !this.loaders.has(key(l.type, l.library))) ?? [];
    return [...own, ...inherited];
  }

  /** Creates a component from config. A class type's own static `fromConfig` (or constructor) wins. */
  fromConfig(spec: ComponentSpec, config: Record<string, unknown>, options: { logger?: Logger } = {}): unknown {
    const context = this.context(spec, { options: {}, logger: options.logger });
    if (typeof spec.type === 'function') {
      const cls = spec.type as unknown as ClassWithFactories;
      return typeof cls.fromConfig === 'function' ? cls.fromConfig(config, spec, context) : new cls(config);
    }
    const loader = this.get(spec.typeName, spec.library);
    if (!loader?.fromConfig) throw new LoaderNotFoundError(spec.typeName || `(untyped '${spec.name}')`, 'fromConfig');
    return loader.fromConfig(config, spec, context);
  }

  /** Loads a component from its repo. A class type's own static `fromPretrained` wins. */
  async fromPretrained(
    spec: ComponentSpec,
    options: { options?: Record<string, unknown>; resolver?: RepoResolver | null; signal?: AbortSignalLike; logger?: Logger } = {},
  ): Promise<unknown> {
    const context = this.context(spec, options);
    if (typeof spec.type === 'function') {
      const cls = spec.type as unknown as ClassWithFactories;
      if (typeof cls.fromPretrained === 'function') return cls.fromPretrained(spec, context);
    }
    const loader = this.get(spec.typeName, spec.library);
    if (!loader?.fromPretrained) throw new LoaderNotFoundError(spec.typeName || `(untyped '${spec.name}')`, 'fromPretrained');
    return loader.fromPretrained(spec, context);
  }

  private context(
    spec: ComponentSpec,
    options: { options?: Record<string, unknown>; resolver?: RepoResolver | null; signal?: AbortSignalLike; logger?: Logger },
  ): LoaderContext {
    const resolver = options.resolver ?? getDefaultRepoResolver();
    return {
      options: options.options ?? {},
      resolver,
      signal: options.signal,
      registry: this,
      logger: options.logger ?? getLogger(),
      resolve: async () => {
        if (!resolver) {
          throw new ComponentLoadError(
            `Cannot resolve '${spec.pretrainedModelNameOrPath}' for component '${spec.name}': no repo resolver is installed. ` +
              `Call installHub() from '@modular-diffusers/hub' (it installs one) or pass { repoResolver } to initPipeline().`,
          );
        }
        return resolver.resolve(
          {
            repo: spec.pretrainedModelNameOrPath ?? '',
            subfolder: spec.subfolder,
            revision: spec.revision,
            variant: spec.variant,
          },
          { signal: options.signal },
        );
      },
    };
  }
}

function key(type: string, library?: string | null): string {
  return `${library || ANY_LIBRARY}:${type}`;
}

/** The registry pipelines use unless they are given their own. */
export const defaultLoaderRegistry = new ComponentLoaderRegistry();
