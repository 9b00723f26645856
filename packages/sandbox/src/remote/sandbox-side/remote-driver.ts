/**
 * Runs INSIDE the sandbox: the bootstrap library that turns a plugin bundle's
 * exports into a running pipeline. The host never touches these objects; it
 * calls the driver API (added to the bundle's exports as `@remote`) with
 * copied data and gets copied data back:
 *
 * - `describe(exportName, path)`: build the blocks `auto_map` names (a blocks
 *   class, a block instance or a preset dict) and describe them as data,
 *   printouts and docs included;
 * - `init(request)` / `sync(request)`: create the pipeline and install the
 *   host's components (proxies, or schedulers/guiders rebuilt from config);
 * - `run(request)` / `abort(runId)`: run with decoded inputs, encode outputs.
 *
 * Imports the engine by package name so the bundler shares one copy with the
 * blocks libraries and the plugin.
 */
import {
  ComponentLoaderRegistry,
  ComponentSpec,
  LoaderNotFoundError,
  ModularPipeline,
  PipelineState,
  SequentialPipelineBlocks,
  defaultLoaderRegistry,
  getPipelineClass,
  isBlock,
  type ComponentLoader,
  type ModularPipelineBlocks,
  type ProgressEvent,
} from '@modular-diffusers/core';
import { guiderRegistry, schedulerRegistry } from '@modular-diffusers/diffusion';
import { Generator, Tensor } from '@modular-diffusers/runtime/tensor';
import {
  REMOTE_DRIVER_EXPORT,
  REMOTE_PROTOCOL_VERSION,
  type ComponentOffer,
  type ComponentSpecJson,
  type RemoteBlockDescription,
  type RemoteDescribeResult,
  type RemoteInitRequest,
  type RemoteRunRequest,
  type RemoteSyncRequest,
} from '../remote-protocol.js';
import { STATE_KEY, createRemoteValueCodec, type RemoteValueCodec } from '../remote-value-codec.js';
import { createComponentProxy } from './component-proxy.js';

type Capabilities = {
  invokeComponent(name: string, method: string, args: unknown): Promise<unknown>;
  reportProgress(runId: number, event: unknown): Promise<unknown>;
};

// The prelude installs `capabilities` on the sandbox global before any library loads.
function capabilities(): Capabilities {
  return (globalThis as unknown as { capabilities: Capabilities }).capabilities;
}

/** Schedulers and guiders are pure arithmetic: the sandbox builds its own from a config. */
function registerPureComponentLoaders(registry: ComponentLoaderRegistry): void {
  const loaders: ComponentLoader[] = [
    ...schedulerRegistry.names().map((type) => ({ type, fromConfig: (config: Record<string, unknown>) => schedulerRegistry.get(type).fromConfig(config) })),
    ...guiderRegistry.names().map((type) => ({ type, fromConfig: (config: Record<string, unknown>) => guiderRegistry.get(type).fromConfig(config) })),
  ];
  for (const loader of loaders) if (!registry.get(loader.type)?.fromConfig) registry.register(loader);
}

type DefineBlocks = (version: unknown, factory: (lib: unknown) => unknown) => void;

/** The driver library: `captureDefineBlocks` and `exportTo` are used by the wrapper around the plugin bundle. */
export function createRemoteDriverLibrary() {
  registerPureComponentLoaders(defaultLoaderRegistry);
  let captured: { version: unknown; factory: unknown } | null = null;
  let captureUsed = false;
  let exported = false;
  return Object.freeze({
    protocol: REMOTE_PROTOCOL_VERSION,
    /** The `defineBlocks` the plugin bundle sees: it records the call so the driver can wrap the exports. */
    captureDefineBlocks(): DefineBlocks {
      if (captureUsed) throw new Error('captureDefineBlocks() is used once, by the host wrapper');
      captureUsed = true;
      return function defineBlocks(version: unknown, factory: unknown) {
        if (captured !== null) throw new Error('defineBlocks() was already called; a bundle defines its exports once');
        captured = { version, factory };
      } as DefineBlocks;
    },
    /** Calls the real `defineBlocks` with the plugin's exports plus the driver API. */
    exportTo(define: DefineBlocks): void {
      if (exported) throw new Error('exportTo() is used once, by the host wrapper');
      exported = true;
      if (captured === null) throw new Error('the bundle never called defineBlocks(1, factory); nothing was exported');
      const { version, factory } = captured;
      define(version, (lib) => {
        if (typeof factory !== 'function') {
          throw new TypeError('defineBlocks(version, factory): factory must be a function that returns an object of exports');
        }
        const result = (factory as (lib: unknown) => unknown)(lib);
        if (result === null || typeof result !== 'object') {
          throw new TypeError(`the defineBlocks() factory must return an object of named exports, not ${typeof result}`);
        }
        if (typeof (result as { then?: unknown }).then === 'function') {
          throw new TypeError('the defineBlocks() factory must return its exports synchronously, not a promise');
        }
        if (Object.hasOwn(result, REMOTE_DRIVER_EXPORT)) {
          throw new Error(`the bundle exports "${REMOTE_DRIVER_EXPORT}", a name the host reserves; rename that export`);
        }
        const table: Record<string, unknown> = {};
        for (const key of Object.keys(result)) table[key] = (result as Record<string, unknown>)[key];
        table[REMOTE_DRIVER_EXPORT] = createDriver({ ...table });
        return table;
      });
    },
  });
}

interface Installed {
  revision: number;
}

function createDriver(exports: Record<string, unknown>) {
  const codec = createRemoteValueCodec({ Tensor: Tensor as never, Generator: Generator as never });
  const roots = new Map<string, ModularPipelineBlocks>();
  const signals = new Map<number, { aborted: boolean; reason: unknown }>();
  const installed = new Map<string, Installed>();
  const proxies = new Map<string, object>();
  let pipeline: (ModularPipeline & Record<string, unknown>) | null = null;
  let registry: ComponentLoaderRegistry | null = null;

  const exportNames = () => Object.keys(exports);

  function root(exportName: string): ModularPipelineBlocks {
    const cached = roots.get(exportName);
    if (cached) return cached;
    if (typeof exportName !== 'string' || !Object.hasOwn(exports, exportName)) {
      throw new Error(`the bundle exports no "${String(exportName)}" (it exports: ${exportNames().join(', ') || 'nothing'}); fix auto_map in modular_config.json`);
    }
    const value = exports[exportName];
    let blocks: ModularPipelineBlocks;
    if (typeof value === 'function') {
      const instance = new (value as new () => unknown)();
      if (!isBlock(instance)) throw new TypeError(`export "${exportName}" (${(value as { name?: string }).name}) is not a ModularPipelineBlocks subclass`);
      blocks = instance as ModularPipelineBlocks;
    } else if (isBlock(value)) {
      blocks = value as ModularPipelineBlocks;
    } else if (value !== null && typeof value === 'object') {
      // A preset: an ordered dict of names to block classes or instances.
      blocks = SequentialPipelineBlocks.fromBlocksDict(value as never);
    } else {
      throw new TypeError(`export "${exportName}" is a ${typeof value}; auto_map must name a blocks class, a block instance or a preset dict`);
    }
    roots.set(exportName, blocks);
    return blocks;
  }

  function blocksAt(exportName: string, path: readonly string[]): ModularPipelineBlocks {
    const top = root(exportName);
    return path.length === 0 ? top : top.getBlock(path.join('.'));
  }

  function specJson(spec: ComponentSpec): ComponentSpecJson {
    return {
      name: spec.name,
      type: spec.typeName,
      library: spec.library,
      description: spec.description,
      config: spec.config ? (codec.encode(spec.config, { lenient: true }) as Record<string, unknown>) : null,
      repo: spec.pretrainedModelNameOrPath,
      subfolder: spec.subfolder,
      variant: spec.variant,
      revision: spec.revision,
      defaultCreationMethod: spec.defaultCreationMethod,
    };
  }

  const hintName = (hint: unknown): string =>
    typeof hint === 'string' ? hint : typeof hint === 'function' ? (hint as { name?: string }).name || 'anonymous' : '';

  function describeBlock(block: ModularPipelineBlocks): RemoteBlockDescription {
    return {
      className: block.className,
      baseClassName: block.baseClassName,
      modelName: block.modelName ?? null,
      description: block.description,
      isComposite: block.isComposite,
      isSkippable: block.isSkippable,
      showsTriggerBanner: block.showsTriggerBanner,
      printout: block.toString(),
      doc: block.doc,
      components: block.expectedComponents.map(specJson),
      configs: block.expectedConfigs.map((c) => ({ name: c.name, default: codec.encode(c.default, { lenient: true }), description: c.description })),
      inputs: block.allInputs.map((p) => ({
        name: p.name,
        typeHint: hintName(p.typeHint),
        description: p.description,
        required: p.required,
        default: codec.encode(p.default, { lenient: true }) ?? null,
        kwargsType: p.kwargsType,
        metadata: (codec.encode(p.metadata, { lenient: true }) as Record<string, unknown> | null) ?? null,
        defaultsByBlock: p.defaultsByBlock
          ? Object.fromEntries(Object.entries(p.defaultsByBlock).map(([k, v]) => [k, codec.encode(v, { lenient: true }) ?? null]))
          : null,
      })),
      outputs: block.outputs.map((o) => ({
        name: o.name,
        typeHint: hintName(o.typeHint),
        description: o.description,
        kwargsType: o.kwargsType,
        metadata: (codec.encode(o.metadata, { lenient: true }) as Record<string, unknown> | null) ?? null,
      })),
      triggerInputs: block.triggerInputs,
      subBlocks: block.blocks.entries().map(([name, sub]) => [name, describeBlock(sub)] as [string, RemoteBlockDescription]),
    };
  }

  function componentFromOffer(offer: ComponentOffer): object | null {
    if (offer.kind === 'proxy') {
      return createComponentProxy(offer, codec, (name, method, args) => capabilities().invokeComponent(name, method, args));
    }
    if (offer.kind === 'config') {
      const spec = new ComponentSpec(offer.name, offer.type, { config: offer.config, defaultCreationMethod: 'fromConfig' });
      return spec.create(null, { registry: registry! }) as object;
    }
    return null;
  }

  function applyOffers(offers: readonly ComponentOffer[]): void {
    const p = pipeline!;
    for (const offer of offers) {
      if (!p.componentNames.includes(offer.name)) continue;
      const current = installed.get(offer.name);
      if (current && current.revision === offer.revision) continue;
      if (offer.kind === 'none') {
        // Keep what the sandbox built itself from the spec; drop only what the host had given.
        if (current) p.registerComponents({ [offer.name]: null });
        installed.delete(offer.name);
        proxies.delete(offer.name);
        continue;
      }
      const value = componentFromOffer(offer);
      if (offer.kind === 'proxy') proxies.set(offer.name, value!);
      p.registerComponents({ [offer.name]: value });
      installed.set(offer.name, { revision: offer.revision });
    }
  }

  function applyConfig(config: Record<string, unknown>): void {
    const p = pipeline!;
    for (const key of Object.keys(config)) if (Object.hasOwn(p.config, key)) p.config[key] = codec.decode(config[key]);
  }

  function encodeState(state: PipelineState): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [key, value] of state.values) values[key] = codec.encode(value, { lenient: true, label: key }) ?? null;
    const kwargs: Record<string, string[]> = {};
    for (const [tag, keys] of state.kwargsMapping) kwargs[tag] = [...keys];
    return { [STATE_KEY]: { values, kwargs } };
  }

  function stateFromInput(value: unknown): PipelineState {
    const wire = (value as Record<string, unknown> | null)?.[STATE_KEY] as { values?: Record<string, unknown>; kwargs?: Record<string, string[]> } | undefined;
    if (!wire || typeof wire.values !== 'object') throw new TypeError("run({ state }): 'state' must be a PipelineState from an earlier run");
    const state = new PipelineState({ values: wire.values });
    for (const [tag, keys] of Object.entries(wire.kwargs ?? {})) state.kwargsMapping.set(tag, [...keys]);
    return state;
  }

  return {
    describe(exportName: string, path: string[] = []): RemoteDescribeResult {
      const blocks = blocksAt(exportName, path);
      const PipelineClass = getPipelineClass(blocks.modelName) ?? ModularPipeline;
      return {
        protocol: REMOTE_PROTOCOL_VERSION,
        root: describeBlock(blocks),
        pipelineClassName: PipelineClass.name,
        sandboxConfigTypes: defaultLoaderRegistry.list().filter((l) => typeof l.fromConfig === 'function').map((l) => l.type),
        exportNames: exportNames().filter((n) => n !== REMOTE_DRIVER_EXPORT),
      };
    },

    init(request: RemoteInitRequest): { pipelineClassName: string } {
      if (pipeline !== null) throw new Error('this sandbox already runs a pipeline; the host starts one sandbox per pipeline');
      const blocks = blocksAt(request.exportName, request.path);
      registry = new ComponentLoaderRegistry(defaultLoaderRegistry);
      // Host-made from-config components (image processors) are served by their proxies, so the
      // pipeline's own from-config creation finds them instead of warning about a missing loader.
      for (const offer of request.components) {
        if (offer.kind !== 'proxy') continue;
        proxies.set(offer.name, componentFromOffer(offer)!);
        installed.set(offer.name, { revision: offer.revision });
        if (!registry.get(offer.type)?.fromConfig) {
          const type = offer.type;
          registry.register({
            type,
            fromConfig: (_config: Record<string, unknown>, spec: ComponentSpec) => {
              const proxy = proxies.get(spec.name);
              if (!proxy) throw new LoaderNotFoundError(type, 'fromConfig');
              return proxy;
            },
          });
        }
      }
      pipeline = blocks.initPipeline(request.repo, { loaderRegistry: registry }) as unknown as ModularPipeline & Record<string, unknown>;
      for (const [name, proxy] of proxies) if (pipeline.componentNames.includes(name)) pipeline.registerComponents({ [name]: proxy });
      applyOffers(request.components.filter((o) => o.kind !== 'proxy'));
      applyConfig(request.config);
      return { pipelineClassName: pipeline.className };
    },

    sync(request: RemoteSyncRequest): null {
      if (pipeline === null) throw new Error('sync() before init()');
      applyOffers(request.components);
      applyConfig(request.config);
      return null;
    },

    async run(request: RemoteRunRequest): Promise<unknown> {
      if (pipeline === null) throw new Error('run() before init()');
      const inputs = codec.decode(request.inputs) as Record<string, unknown>;
      if (inputs.state !== undefined && inputs.state !== null) inputs.state = stateFromInput(inputs.state);
      const signal = { aborted: false, reason: undefined as unknown };
      signals.set(request.runId, signal);
      // Progress reports are not awaited where they are made (a step does not wait on the host's
      // callback), but the run waits for their answers before it returns: a plugin must leave no
      // capability call behind its call, or the host stops it.
      const reports: Promise<unknown>[] = [];
      const onProgress = (event: ProgressEvent) => {
        reports.push(
          capabilities()
            .reportProgress(request.runId, { block: String(event.block), step: Number(event.step), total: event.total ?? null })
            .catch(() => {}),
        );
      };
      try {
        const args: Record<string, unknown> = { ...inputs };
        if (request.output !== null) args.output = request.output;
        const options: Record<string, unknown> = { signal, onProgress };
        if (request.strict !== null) options.strict = request.strict;
        const result = await pipeline.run(args as never, options);
        if (request.output === null) return encodeState(result as PipelineState);
        return codec.encode(result, { lenient: true, label: 'output' }) ?? null;
      } finally {
        signals.delete(request.runId);
        await Promise.all(reports);
      }
    },

    abort(runId: number, reason: string): null {
      const signal = signals.get(runId);
      if (signal) {
        signal.aborted = true;
        signal.reason = new Error(String(reason));
      }
      return null;
    },
  };
}

export type RemoteDriver = ReturnType<typeof createDriver>;
export type { RemoteValueCodec };
