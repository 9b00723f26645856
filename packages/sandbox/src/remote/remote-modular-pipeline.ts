/**
 * A pipeline whose blocks are trusted remote code. The host side is a real
 * ModularPipeline: it holds the component specs, loads the components with
 * the loader registry and the Hub resolver, takes `updateComponents`, prints
 * itself and its `doc`. The blocks themselves run in a sandbox of their own;
 * models, tokenizers and image processors stay here and are reached through
 * `invokeComponent` (allow-listed methods of THIS pipeline's components only,
 * only during one of its runs), while schedulers and guiders are rebuilt
 * inside the sandbox from their configs.
 */
import {
  InvalidArgumentError,
  ModularPipeline,
  RUN_OPTIONS,
  checkRunMemory,
  type PipelineComponents,
  defaultLoaderRegistry,
  getLogger,
  type Logger,
  PipelineAbortedError,
  PipelineState,
  type AbortSignalLike,
  type CallablePipeline,
  type LoadComponentsOptions,
  type LoadReport,
  type ProgressEvent,
  type RunInputs,
  type RunOptions,
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

interface RemoteState {
  origin: RemoteOrigin;
  path: readonly string[];
  session: Promise<RemoteSession>;
  codec: RemoteValueCodec;
  access: Readonly<Record<string, ComponentAccess>>;
  loadOptions: LoadComponentsOptions;
  sandboxConfigTypes: ReadonlySet<string>;
  imageInputs: ReadonlySet<string>;
  revisions: Map<string, number>;
  offers: Map<string, ComponentOffer>;
  lastSync: string | null;
  initialised: boolean;
  pipelineClassName: string;
  queue: Promise<unknown>;
  activeRun: ActiveRun | null;
  runCounter: number;
  disposed: boolean;
  warnedNoAccess: Set<string>;
  invoker: ComponentInvoker;
}

export class RemoteModularPipeline extends ModularPipeline {
  // One field (not several, not #private): the base constructor returns a callable proxy, and component
  // names become properties, so the subclass keeps its state in a single, unlikely-to-clash slot.
  private _remote!: RemoteState;

  constructor(blocks: RemoteBlocks, repo: string | null = null, options: RemotePipelineOptions = {}) {
    const quiet = quietForSandboxBuilt(blocks, options);
    const { componentAccess: _access, ...init } = options;
    super(blocks, repo, { ...init, logger: quiet.logger });
    quiet.done();
    const origin = blocks.remoteOrigin;
    const path = blocks.remotePath;
    const atRoot = path.length === 0;
    let session: Promise<RemoteSession>;
    if (atRoot && origin.parked?.alive) {
      session = Promise.resolve(origin.parked);
      origin.parked = null;
    } else {
      session = RemoteSession.start(origin.source, origin.options);
    }
    const state: RemoteState = {
      origin,
      path,
      session,
      codec: origin.codec,
      access: { ...(options.componentAccess ?? {}) },
      loadOptions: { ...(options.loadOptions ?? {}) },
      sandboxConfigTypes: new Set(origin.described.sandboxConfigTypes),
      imageInputs: imageInputNames(blocks.allInputs),
      revisions: new Map(),
      offers: new Map(),
      lastSync: null,
      initialised: false,
      pipelineClassName: atRoot ? origin.described.pipelineClassName : 'ModularPipeline',
      queue: Promise.resolve(),
      activeRun: null,
      runCounter: 0,
      disposed: false,
      warnedNoAccess: new Set(),
      invoker: createComponentInvoker({
        lookup: (name) => this.componentForSandbox(name),
        names: () => this.componentNames,
        refusal: () => this.invokeRefusal(),
        codec: origin.codec,
        access: options.componentAccess,
      }),
    };
    this._remote = state;
    state.session = session.then((s) => {
      s.bind({
        invokeComponent: (...args: SandboxValue[]) => state.invoker(...args),
        reportProgress: (runId, event) => this.onRemoteProgress(runId, event),
      });
      return s;
    });
    // Failures surface on the first run; an unobserved start failure must not crash the process.
    state.session.catch(() => {});
  }

  /** The sandbox pipeline's class name (e.g. StableDiffusionXLModularPipeline). */
  override get className(): string {
    return this._remote?.pipelineClassName ?? 'ModularPipeline';
  }

  /** Where the code came from: repo, commit, bundle file and the export that was built. */
  get remoteSource(): { repo: string | null; commit: string | null; filename: string; exportName: string; path: readonly string[] } {
    const { source } = this._remote.origin;
    return { repo: source.repo, commit: source.commit, filename: source.filename, exportName: source.exportName, path: this._remote.path };
  }

  override loadComponents(namesOrOptions: string | readonly string[] | LoadComponentsOptions | null = null, options: LoadComponentsOptions = {}): Promise<LoadReport> {
    if (namesOrOptions !== null && typeof namesOrOptions === 'object' && !Array.isArray(namesOrOptions)) {
      return super.loadComponents(null, { ...this._remote.loadOptions, ...(namesOrOptions as LoadComponentsOptions) });
    }
    return super.loadComponents(namesOrOptions as string | readonly string[] | null, { ...this._remote.loadOptions, ...options });
  }

  override registerComponents(components: Record<string, unknown>): void {
    super.registerComponents(components);
    for (const name of Object.keys(components)) this.bumpRevision(name);
  }

  override unloadComponents(names: string | readonly string[]): void {
    super.unloadComponents(names);
    for (const name of typeof names === 'string' ? [names] : Array.isArray(names) ? names : []) this.bumpRevision(name);
  }

  override run(inputs: RunInputs & { output: string }, options?: RunOptions): Promise<any>;
  override run(inputs: RunInputs & { output: readonly string[] }, options?: RunOptions): Promise<Record<string, any>>;
  override run(inputs?: RunInputs, options?: RunOptions): Promise<any>;
  override async run(inputs: RunInputs = {}, options: RunOptions = {}): Promise<unknown> {
    RUN_OPTIONS.check(options);
    options ??= {};
    const r = this._remote;
    // Runs of one pipeline go one at a time: they share the sandbox's stateful scheduler and guider.
    const turn = r.queue.then(() => this.startRun(inputs, options));
    r.queue = turn.then(
      (started) => started.settled,
      () => undefined,
    );
    const started = await turn;
    return started.result;
  }

  /** Stops this pipeline's sandbox; later runs fail with RemotePipelineError. Host components stay loaded. */
  async dispose(): Promise<void> {
    const r = this._remote;
    r.disposed = true;
    const session = await r.session.catch(() => null);
    await session?.dispose();
  }

  // ---- internals ----------------------------------------------------------------------------

  private bumpRevision(name: string): void {
    const r = this._remote;
    if (r) r.revisions.set(name, (r.revisions.get(name) ?? 0) + 1);
  }

  private componentForSandbox(name: string): { exists: boolean; value: unknown } {
    if (!this.componentSpecs.has(name)) return { exists: false, value: undefined };
    const value = this.componentValues.get(name);
    if (value != null) this.componentsManager?.notifyBeforeUse(value);
    return { exists: true, value };
  }

  private invokeRefusal(): string | null {
    const run = this._remote.activeRun;
    if (run === null) return 'components can only be used while the pipeline runs';
    if (!run.aborted && run.signal?.aborted) run.abort(run.signal.reason);
    return run.aborted ? 'the run was aborted' : null;
  }

  private onRemoteProgress(runId: number, event: RemoteProgress): void {
    const run = this._remote.activeRun;
    if (run === null || run.id !== runId || run.aborted) return;
    if (run.signal?.aborted) {
      run.abort(run.signal.reason);
      return;
    }
    try {
      run.onProgress?.({ block: event.block, step: event.step, total: event.total });
    } catch (error) {
      this.logger.warn(`onProgress threw (ignored): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private componentOffers(): ComponentOffer[] {
    const r = this._remote;
    return this.componentNames.map((name) => {
      const revision = r.revisions.get(name) ?? 0;
      const cached = r.offers.get(name);
      if (cached && cached.revision === revision) return cached;
      const offer = this.makeOffer(name, revision);
      r.offers.set(name, offer);
      return offer;
    });
  }

  private makeOffer(name: string, revision: number): ComponentOffer {
    const r = this._remote;
    const value = this.componentValues.get(name);
    if (value === null || value === undefined) return { name, kind: 'none', revision };
    const type = (value as { constructor?: { name?: string } }).constructor?.name || 'Object';
    const config = (value as { config?: unknown }).config;
    if (r.sandboxConfigTypes.has(type) && config !== null && typeof config === 'object') {
      try {
        return { name, kind: 'config', revision, type, config: r.codec.encode(config, { label: `${name}.config` }) as Record<string, unknown> };
      } catch {
        // A config that is not plain data: serve the host object through a proxy instead.
      }
    }
    const entry = componentAccessFor(value, r.access);
    if (entry === null) {
      if (!r.warnedNoAccess.has(name)) {
        r.warnedNoAccess.add(name);
        this.logger.warn(
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
        if (v !== undefined && typeof v !== 'function') properties[key] = r.codec.encode(v, { lenient: true, label: `${name}.${key}` });
      } catch {
        // A property that cannot be read or copied is left out; the blocks see it as undefined.
      }
    }
    return { name, kind: 'proxy', revision, type, methods: [...entry.access.methods], properties };
  }

  private async prepareSandbox(session: RemoteSession): Promise<void> {
    const r = this._remote;
    const components = this.componentOffers();
    const config = r.codec.encode({ ...this.config }, { lenient: true, label: 'config' }) as Record<string, unknown>;
    const key = JSON.stringify([components.map((c) => [c.name, c.revision]), config]);
    if (!r.initialised) {
      const { pipelineClassName } = await session.init({
        exportName: r.origin.source.exportName,
        path: [...r.path],
        repo: this.pretrainedModelNameOrPath,
        components,
        config,
      });
      r.pipelineClassName = pipelineClassName;
      r.initialised = true;
    } else if (key !== r.lastSync) {
      await session.sync({ components, config });
    }
    r.lastSync = key;
  }

  private async startRun(inputs: RunInputs, options: RunOptions): Promise<{ result: Promise<unknown>; settled: Promise<void> }> {
    const r = this._remote;
    if (r.disposed) throw new RemotePipelineError('This remote pipeline was disposed; build a new one to run again.');
    (this.blocks as RemoteBlocks).assertUnedited();
    const { output, state: given, ...values } = inputs;
    const signal = options.signal;
    if (signal?.aborted) throw new PipelineAbortedError('before it started', signal.reason);
    if (output !== undefined && output !== null && typeof output !== 'string' && !Array.isArray(output)) {
      throw new InvalidArgumentError(`output must be a name or a list of names, got ${typeof output}.`);
    }
    if (given !== undefined && !(given instanceof PipelineState)) {
      throw new InvalidArgumentError("run({ state }): 'state' must be a PipelineState from an earlier run.");
    }
    // Bounded before the sandbox or any model does work: the host estimates from the inputs and defaults.
    const sizing = new PipelineState();
    for (const param of this.blocks.allInputs) if (param.name) sizing.set(param.name, param.name in values ? values[param.name] : param.default);
    checkRunMemory(this as unknown as PipelineComponents, this.blocks.modelName, sizing, options.maxMemory ?? this.maxMemory);
    const session = await r.session;
    await this.prepareSandbox(session);
    const loaded = await loadImageInputs(values, r.imageInputs);
    const encoded: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(loaded)) {
      const e = r.codec.encode(value, { label: `input '${key}'` });
      if (e !== undefined) encoded[key] = e;
    }
    if (given) encoded.state = this.encodeState(given);
    if (signal?.aborted) throw new PipelineAbortedError('before it started', signal.reason);

    const runId = ++r.runCounter;
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
    r.activeRun = run;
    const onAbort = () => run.abort(signal?.reason);
    const listenable = signal as { addEventListener?: AbortSignal['addEventListener']; removeEventListener?: AbortSignal['removeEventListener'] } | undefined;
    listenable?.addEventListener?.('abort', onAbort, { once: true });
    const call = session.run({
      runId,
      inputs: encoded,
      output: output === undefined || output === null ? null : typeof output === 'string' ? output : [...output],
      strict: options.strict ?? this.strict,
    });
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    void settled.then(() => {
      if (r.activeRun === run) r.activeRun = null;
      listenable?.removeEventListener?.('abort', onAbort);
    });
    const result = Promise.race([call.then((value) => this.decodeOutput(value, output === undefined || output === null)), aborted]);
    return { result, settled };
  }

  private encodeState(state: PipelineState): unknown {
    const values: Record<string, unknown> = {};
    for (const [key, value] of state.values) values[key] = this._remote.codec.encode(value, { label: `state '${key}'` }) ?? null;
    return { [STATE_KEY]: { values, kwargs: Object.fromEntries([...state.kwargsMapping].map(([k, keys]) => [k, [...keys]])) } };
  }

  private async decodeOutput(value: SandboxValue, wholeState: boolean): Promise<unknown> {
    const codec = this._remote.codec;
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
