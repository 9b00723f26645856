/**
 * A pipeline whose blocks are trusted remote code. The host side is a real
 * ModularPipeline: it holds the component specs, loads the components with
 * the loader registry and the Hub resolver, takes `updateComponents`, prints
 * itself and its `doc`, exactly as a local one does, because it IS one with
 * another BlocksRunner: the blocks themselves run in a sandbox of their own
 * (SandboxBlocksRunner, below);
 * models, tokenizers and image processors stay here and are reached through
 * `invokeComponent` (allow-listed methods of THIS pipeline's components only,
 * only during one of its runs), while schedulers and guiders are rebuilt
 * inside the sandbox from their configs.
 */
import {
  ModularPipeline,
  checkRunMemory,
  defaultLoaderRegistry,
  getLogger,
  type Logger,
  PipelineAbortedError,
  PipelineState,
  type AbortSignalLike,
  type BlocksRunner,
  type CallablePipeline,
  type LoadComponentsOptions,
  type ProgressEvent,
  type RunInputs,
  type RunOptions,
  type RunTarget,
} from '@modular-diffusers/core';
import type { SandboxValue } from '../sandbox/sandbox-value.js';
import { componentAccessFor, type ComponentAccess } from './component-access.js';
import { imageInputNames, loadImageInputs } from './host-image-inputs.js';
import { createComponentInvoker, type ComponentInvoker } from './invoke-component.js';
import type { RemoteBlocks, RemoteOrigin } from './remote-blocks.js';
import { RemotePipelineError } from './remote-errors.js';
import type { ComponentOffer, RemoteProgress } from './remote-protocol.js';
import { RemoteSession } from './remote-session.js';
import { IMAGE_KEY, STATE_KEY, type RemoteValueCodec } from './remote-value-codec.js';
import { ensurePipelineImageClass } from './host-codec.js';

export interface RemotePipelineOptions {
  componentsManager?: import('@modular-diffusers/core').ComponentsManager | null;
  collection?: string | null;
  loaderRegistry?: import('@modular-diffusers/core').ComponentLoaderRegistry;
  repoResolver?: import('@modular-diffusers/core').RepoResolver | null;
  modelIndex?: Record<string, unknown> | null;
  strict?: boolean;
  logger?: import('@modular-diffusers/core').Logger;
  /** Per-pipeline allow-list entries by component class name, over the registered and built-in ones. */
  componentAccess?: Record<string, ComponentAccess>;
  /** Options every `loadComponents` call starts from (e.g. `{ device: 'cuda' }`). */
  loadOptions?: LoadComponentsOptions;
  /** The largest run it starts (see InitPipelineOptions.maxMemory). */
  maxMemory?: number | string;
}

interface ActiveRun {
  id: number;
  aborted: boolean;
  signal: AbortSignalLike | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  abort(reason: unknown): void;
}

/** What the sandbox runner reads of the pipeline it runs for: that pipeline's own components and settings. */
interface SandboxHost {
  readonly componentNames: string[];
  readonly config: Record<string, unknown>;
  readonly pretrainedModelNameOrPath: string | null;
  readonly logger: Logger;
  /** Whether the pipeline declares component `name`, and its object (told to the components manager as used). */
  componentForSandbox(name: string): { exists: boolean; value: unknown };
  /** The object of component `name` as it is now (null when unloaded), without marking it used. */
  componentValue(name: string): unknown;
}

/**
 * Runs remote blocks in their own sandbox: the BlocksRunner of a RemoteModularPipeline. The
 * pipeline's components stay on the host and are offered to the sandbox each run (schedulers and
 * guiders as configs the sandbox rebuilds, models as allow-listed proxies).
 */
export class SandboxBlocksRunner implements BlocksRunner {
  readonly origin: RemoteOrigin;
  readonly path: readonly string[];
  /** The sandbox pipeline's class name (e.g. StableDiffusionXLModularPipeline), which the pipeline reports. */
  pipelineClassName: string;
  #host: SandboxHost | null = null;
  #session: Promise<RemoteSession>;
  readonly #codec: RemoteValueCodec;
  readonly #access: Readonly<Record<string, ComponentAccess>>;
  readonly #sandboxConfigTypes: ReadonlySet<string>;
  readonly #imageInputs: ReadonlySet<string>;
  readonly #revisions = new Map<string, number>();
  readonly #offers = new Map<string, ComponentOffer>();
  #lastSync: string | null = null;
  #initialised = false;
  #queue: Promise<unknown> = Promise.resolve();
  #activeRun: ActiveRun | null = null;
  #runCounter = 0;
  #disposed = false;
  readonly #warnedNoAccess = new Set<string>();
  readonly #invoker: ComponentInvoker;

  constructor(blocks: RemoteBlocks, componentAccess: Record<string, ComponentAccess> | undefined) {
    const origin = blocks.remoteOrigin;
    this.origin = origin;
    this.path = blocks.remotePath;
    const atRoot = this.path.length === 0;
    let session: Promise<RemoteSession>;
    if (atRoot && origin.parked?.alive) {
      session = Promise.resolve(origin.parked);
      origin.parked = null;
    } else {
      session = RemoteSession.start(origin.source, origin.options);
    }
    this.#codec = origin.codec;
    this.#access = { ...(componentAccess ?? {}) };
    this.#sandboxConfigTypes = new Set(origin.described.sandboxConfigTypes);
    this.#imageInputs = imageInputNames(blocks.allInputs);
    this.pipelineClassName = atRoot ? origin.described.pipelineClassName : 'ModularPipeline';
    this.#invoker = createComponentInvoker({
      lookup: (name) => this.host.componentForSandbox(name),
      names: () => this.host.componentNames,
      refusal: () => this.invokeRefusal(),
      codec: origin.codec,
      access: componentAccess,
    });
    this.#session = session.then((s) => {
      s.bind({
        invokeComponent: (...args: SandboxValue[]) => this.#invoker(...args),
        reportProgress: (runId, event) => this.onRemoteProgress(runId, event),
      });
      return s;
    });
    // Failures surface on the first run; an unobserved start failure must not crash the process.
    this.#session.catch(() => {});
  }

  /** Binds the runner to the one pipeline whose components it offers; done by that pipeline's constructor. */
  attach(host: SandboxHost): void {
    if (this.#host) throw new RemotePipelineError('A sandbox runner serves one pipeline; build another pipeline with blocks.initPipeline().');
    this.#host = host;
  }

  /** Components that were set, replaced or unloaded are offered again on the next run. */
  componentsChanged(names: readonly string[]): void {
    for (const name of names) this.#revisions.set(name, (this.#revisions.get(name) ?? 0) + 1);
  }

  run(target: RunTarget, inputs: RunInputs, options: RunOptions): Promise<unknown> {
    // Runs of one pipeline go one at a time: they share the sandbox's stateful scheduler and guider.
    const turn = this.#queue.then(() => this.startRun(target, inputs, options));
    this.#queue = turn.then(
      (started) => started.settled,
      () => undefined,
    );
    return turn.then((started) => started.result);
  }

  /** Stops the sandbox; later runs fail with RemotePipelineError. Host components stay loaded. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const session = await this.#session.catch(() => null);
    await session?.dispose();
  }

  private get host(): SandboxHost {
    if (!this.#host) throw new RemotePipelineError('This sandbox runner is not attached to a pipeline (protocol error).');
    return this.#host;
  }

  private invokeRefusal(): string | null {
    const run = this.#activeRun;
    if (run === null) return 'components can only be used while the pipeline runs';
    if (!run.aborted && run.signal?.aborted) run.abort(run.signal.reason);
    return run.aborted ? 'the run was aborted' : null;
  }

  private onRemoteProgress(runId: number, event: RemoteProgress): void {
    const run = this.#activeRun;
    if (run === null || run.id !== runId || run.aborted) return;
    if (run.signal?.aborted) {
      run.abort(run.signal.reason);
      return;
    }
    try {
      run.onProgress?.({ block: event.block, step: event.step, total: event.total });
    } catch (error) {
      this.host.logger.warn(`onProgress threw (ignored): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private componentOffers(): ComponentOffer[] {
    return this.host.componentNames.map((name) => {
      const revision = this.#revisions.get(name) ?? 0;
      const cached = this.#offers.get(name);
      if (cached && cached.revision === revision) return cached;
      const offer = this.makeOffer(name, revision);
      this.#offers.set(name, offer);
      return offer;
    });
  }

  private makeOffer(name: string, revision: number): ComponentOffer {
    const value = this.host.componentValue(name);
    if (value === null || value === undefined) return { name, kind: 'none', revision };
    const type = (value as { constructor?: { name?: string } }).constructor?.name || 'Object';
    const config = (value as { config?: unknown }).config;
    if (this.#sandboxConfigTypes.has(type) && config !== null && typeof config === 'object') {
      try {
        return { name, kind: 'config', revision, type, config: this.#codec.encode(config, { label: `${name}.config` }) as Record<string, unknown> };
      } catch {
        // A config that is not plain data: serve the host object through a proxy instead.
      }
    }
    const entry = componentAccessFor(value, this.#access);
    if (entry === null) {
      if (!this.#warnedNoAccess.has(name)) {
        this.#warnedNoAccess.add(name);
        this.host.logger.warn(
          `Component '${name}' (${type}) has no sandbox access entry, so the remote blocks see it without methods or properties. ` +
            `Allow what they need with registerComponentAccess('${type}', { methods, properties }).`,
        );
      }
      return { name, kind: 'proxy', revision, type, methods: [], properties: {} };
    }
    const properties: Record<string, unknown> = {};
    for (const key of entry.access.properties) {
      try {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined && typeof v !== 'function') properties[key] = this.#codec.encode(v, { lenient: true, label: `${name}.${key}` });
      } catch {
        // A property that cannot be read or copied is left out; the blocks see it as undefined.
      }
    }
    return { name, kind: 'proxy', revision, type, methods: [...entry.access.methods], properties };
  }

  private async prepareSandbox(session: RemoteSession): Promise<void> {
    const host = this.host;
    const components = this.componentOffers();
    const config = this.#codec.encode({ ...host.config }, { lenient: true, label: 'config' }) as Record<string, unknown>;
    const key = JSON.stringify([components.map((c) => [c.name, c.revision]), config]);
    if (!this.#initialised) {
      const { pipelineClassName } = await session.init({
        exportName: this.origin.source.exportName,
        path: [...this.path],
        repo: host.pretrainedModelNameOrPath,
        components,
        config,
      });
      this.pipelineClassName = pipelineClassName;
      this.#initialised = true;
    } else if (key !== this.#lastSync) {
      await session.sync({ components, config });
    }
    this.#lastSync = key;
  }

  private async startRun(target: RunTarget, inputs: RunInputs, options: RunOptions): Promise<{ result: Promise<unknown>; settled: Promise<void> }> {
    if (this.#disposed) throw new RemotePipelineError('This remote pipeline was disposed; build a new one to run again.');
    (target.blocks as RemoteBlocks).assertUnedited();
    const { output, state: given, ...values } = inputs;
    const signal = options.signal;
    if (signal?.aborted) throw new PipelineAbortedError('before it started', signal.reason);
    // Bounded before the sandbox or any model does work: the host estimates from the inputs and defaults.
    const sizing = new PipelineState();
    for (const param of target.blocks.allInputs) if (param.name) sizing.set(param.name, param.name in values ? values[param.name] : param.default);
    checkRunMemory(target.componentsView, target.blocks.modelName, sizing, options.maxMemory ?? target.maxMemory);
    const session = await this.#session;
    await this.prepareSandbox(session);
    const loaded = await loadImageInputs(values, this.#imageInputs);
    const encoded: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(loaded)) {
      const e = this.#codec.encode(value, { label: `input '${key}'` });
      if (e !== undefined) encoded[key] = e;
    }
    if (given) encoded.state = this.encodeState(given);
    if (signal?.aborted) throw new PipelineAbortedError('before it started', signal.reason);

    const runId = ++this.#runCounter;
    let rejectAborted!: (error: Error) => void;
    const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
    aborted.catch(() => {});
    const run: ActiveRun = {
      id: runId,
      aborted: false,
      signal,
      onProgress: options.onProgress,
      abort: (reason) => {
        if (run.aborted) return;
        run.aborted = true;
        session.abort(runId, reason instanceof Error ? reason.message : String(reason ?? 'aborted')).catch(() => {});
        rejectAborted(new PipelineAbortedError('while it ran in the sandbox', reason));
      },
    };
    this.#activeRun = run;
    const onAbort = () => run.abort(signal?.reason);
    const listenable = signal as { addEventListener?: AbortSignal['addEventListener']; removeEventListener?: AbortSignal['removeEventListener'] } | undefined;
    listenable?.addEventListener?.('abort', onAbort, { once: true });
    const call = session.run({
      runId,
      inputs: encoded,
      output: output === undefined || output === null ? null : typeof output === 'string' ? output : [...output],
      strict: options.strict ?? target.strict,
    });
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    void settled.then(() => {
      if (this.#activeRun === run) this.#activeRun = null;
      listenable?.removeEventListener?.('abort', onAbort);
    });
    const result = Promise.race([call.then((value) => this.decodeOutput(value, output === undefined || output === null)), aborted]);
    return { result, settled };
  }

  private encodeState(state: PipelineState): unknown {
    const values: Record<string, unknown> = {};
    for (const [key, value] of state.values) values[key] = this.#codec.encode(value, { label: `state '${key}'` }) ?? null;
    return { [STATE_KEY]: { values, kwargs: Object.fromEntries([...state.kwargsMapping].map(([k, keys]) => [k, [...keys]])) } };
  }

  private async decodeOutput(value: SandboxValue, wholeState: boolean): Promise<unknown> {
    const codec = this.#codec;
    if (containsKey(value, IMAGE_KEY)) await ensurePipelineImageClass();
    if (!wholeState) return codec.decode(value);
    const wire = (value as Record<string, unknown> | null)?.[STATE_KEY] as { values: Record<string, unknown>; kwargs: Record<string, string[]> } | undefined;
    if (!wire || typeof wire.values !== 'object') throw new RemotePipelineError('the sandbox answered a run without its state (protocol error)');
    const state = new PipelineState({ values: codec.decode(wire.values) as Record<string, unknown> });
    for (const [tag, keys] of Object.entries(wire.kwargs ?? {})) if (Array.isArray(keys)) state.kwargsMapping.set(tag, keys.map(String));
    return state;
  }
}

/**
 * A ModularPipeline whose blocks run in a sandbox: the components, loading, saving, printing and
 * run are the base class's own and nothing is overridden; only the blocks runner differs
 * (SandboxBlocksRunner, which also names the sandbox's pipeline class).
 */
export class RemoteModularPipeline extends ModularPipeline {
  readonly #runner: SandboxBlocksRunner;

  constructor(blocks: RemoteBlocks, repo: string | null = null, options: RemotePipelineOptions = {}) {
    const quiet = quietForSandboxBuilt(blocks, options);
    const { componentAccess, ...init } = options;
    const runner = new SandboxBlocksRunner(blocks, componentAccess);
    super(blocks, repo, { ...init, logger: quiet.logger }, runner);
    quiet.done();
    this.#runner = runner;
    const store = this.store;
    runner.attach({
      get componentNames() {
        return store.names;
      },
      get config() {
        return store.config;
      },
      pretrainedModelNameOrPath: repo,
      logger: this.logger,
      componentForSandbox: (name) => (store.has(name) ? { exists: true, value: store.use(name) } : { exists: false, value: undefined }),
      componentValue: (name) => store.values.get(name),
    });
    store.onChange((names) => runner.componentsChanged(names));
  }

  /** Where the code came from: repo, commit, bundle file and the export that was built. */
  get remoteSource(): { repo: string | null; commit: string | null; filename: string; exportName: string; path: readonly string[] } {
    const { source } = this.#runner.origin;
    return { repo: source.repo, commit: source.commit, filename: source.filename, exportName: source.exportName, path: this.#runner.path };
  }

  /** Stops this pipeline's sandbox; later runs fail with RemotePipelineError. Host components stay loaded. */
  dispose(): Promise<void> {
    return this.#runner.dispose();
  }
}

/**
 * The base constructor creates from-config components with the host's loaders and warns about each it
 * cannot create. Schedulers and guiders the sandbox builds itself need no host loader, so those
 * warnings (only while constructing, only for those components) would be noise.
 */
function quietForSandboxBuilt(blocks: RemoteBlocks, options: RemotePipelineOptions): { logger: Logger; done(): void } {
  const base = options.logger ?? getLogger();
  const registry = options.loaderRegistry ?? defaultLoaderRegistry;
  const sandboxTypes = new Set(blocks.remoteOrigin.described.sandboxConfigTypes);
  const quietNames = blocks.expectedComponents
    .filter((s) => s.defaultCreationMethod === 'fromConfig' && sandboxTypes.has(s.typeName) && !registry.get(s.typeName, s.library)?.fromConfig)
    .map((s) => `Component '${s.name}' was left unset`);
  let constructing = true;
  const logger: Logger = {
    debug: (m) => base.debug(m),
    info: (m) => base.info(m),
    warn: (m) => {
      if (constructing && quietNames.some((prefix) => m.startsWith(prefix))) return;
      base.warn(m);
    },
    error: (m) => base.error(m),
  };
  return { logger, done: () => (constructing = false) };
}

function containsKey(value: unknown, key: string, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => containsKey(v, key, depth + 1));
  if (Object.hasOwn(value, key)) return true;
  return Object.values(value).some((v) => containsKey(v, key, depth + 1));
}

export type RemoteCallablePipeline = RemoteModularPipeline & CallablePipeline;
