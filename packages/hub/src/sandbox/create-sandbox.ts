import { Worker } from 'node:worker_threads';
import { DEFAULT_MAX_SOURCE_BYTES, checkSandboxSource } from './check-sandbox-source.js';
import { CONTEXT_PRELUDE, SANDBOX_API_VERSION } from './context-prelude.js';
import {
  RemoteCodeError,
  SandboxCrashedError,
  SandboxError,
  SandboxMemoryError,
  SandboxTimeoutError,
  type RemoteErrorInfo,
} from './errors.js';
import { startMemoryGuard, type MemoryGuard } from './memory-guard.js';
import { decodeSandboxValue, encodeSandboxValue, type SandboxValue } from './sandbox-value.js';
import { sesSource } from './ses-source.js';
import { WORKER_SOURCE } from './worker-source.js';

/** Host-provided library evaluated in the sandbox before the bundle; it must call `defineLibrary(name, exports)`. */
export interface SandboxLibrary {
  name: string;
  source: string;
  filename?: string;
}

/** The plugin bundle: one classic script that calls `defineBlocks(SANDBOX_API_VERSION, factory)`. */
export interface SandboxBundle {
  source: string;
  filename: string;
}

/** A host function the sandbox may call as `await capabilities.<name>(...args)`. Arguments and result are copies. */
export type SandboxCapability = (...args: SandboxValue[]) => SandboxValue | void | Promise<SandboxValue | void>;

export interface SandboxLimits {
  /** Worker V8 old-generation heap, MB (default 128). */
  memoryMb?: number;
  /** ArrayBuffer bytes the sandbox may hold, MB (default 1024); these live outside the V8 heap. */
  externalMemoryMb?: number;
  /** CPU budget of each synchronous entry into plugin code, including the promise jobs it drains (default 2000 ms). */
  timeoutMs?: number;
  /** Wall-clock budget of one call, including awaited capabilities (default 120000 ms). */
  callTimeoutMs?: number;
  /** Wall-clock budget for starting the worker and loading libraries and bundle (default 30000 ms). */
  loadTimeoutMs?: number;
  /** UTF-8 size cap of each source (default 16 MiB). */
  maxSourceBytes?: number;
}

export type SandboxLogLevel = 'debug' | 'info' | 'log' | 'warn' | 'error';

export interface CreateSandboxOptions {
  bundle: SandboxBundle;
  libraries?: readonly SandboxLibrary[];
  capabilities?: Readonly<Record<string, SandboxCapability>>;
  limits?: SandboxLimits;
  /** Receives the sandbox's console output as plain strings (control characters removed). Dropped when absent. */
  onLog?: (level: SandboxLogLevel, message: string) => void;
}

export interface SandboxExportInfo {
  name: string;
  type: 'function' | 'class' | 'object' | 'value';
  /** Callable methods found on the object (own and inherited) or, for a class, on its prototype. */
  methods: string[];
}

/** What the bundle declared, computed inside the sandbox and returned as JSON. */
export interface SandboxManifest {
  apiVersion: number;
  manifestVersion: number;
  exports: SandboxExportInfo[];
}

export interface Sandbox {
  /** The bundle's exports as described at load time. */
  manifest(): SandboxManifest;
  /**
   * Calls an export (`method` null: the export itself must be a function) or one of its methods, with
   * copies of `args`; resolves with a copy of the (awaited) result.
   */
  call(target: string, method: string | null, ...args: SandboxValue[]): Promise<SandboxValue>;
  /** `new Export(...args)` inside the sandbox; resolves with a handle ("#1") usable as `target` in `call`. */
  construct(target: string, ...args: SandboxValue[]): Promise<string>;
  /** Forgets an instance handle so the sandbox can collect it. */
  release(handle: string): void;
  /** True until the sandbox is disposed or stopped by a failure. */
  readonly alive: boolean;
  /** Stops the worker; pending calls reject with SandboxCrashedError. */
  dispose(): Promise<void>;
}

interface Pending {
  resolve: (value: SandboxValue) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  what: string;
}

type WorkerMessage =
  | { type: 'ready'; manifest: string }
  | { type: 'load-error'; error: RemoteErrorInfo }
  | { type: 'fatal'; kind: 'timeout' | 'memory' | 'crashed'; message: string }
  | { type: 'capability'; id: number; name: string; json: string; buffers: ArrayBuffer[] }
  | { type: 'return'; id: number; ok: boolean; json?: string; error?: RemoteErrorInfo; buffers: ArrayBuffer[] }
  | { type: 'log'; level: SandboxLogLevel; message: string };

const LOG_LEVELS = new Set<string>(['debug', 'info', 'log', 'warn', 'error']);
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Starts a Worker, builds a locked-down vm context in it, evaluates `libraries` then `bundle`, and
 * resolves once the bundle has declared its exports. Rejects with SandboxCodeRejectedError (static
 * checks), RemoteCodeError (the code threw), SandboxTimeoutError or SandboxMemoryError.
 */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const limits = resolveLimits(options.limits);
  const { bundle } = options;
  if (!bundle || typeof bundle.source !== 'string' || typeof bundle.filename !== 'string') {
    throw new TypeError('createSandbox: bundle must be { source: string, filename: string }');
  }
  const libraries = (options.libraries ?? []).map((lib, i) => {
    if (!lib || typeof lib.name !== 'string' || lib.name === '' || typeof lib.source !== 'string') {
      throw new TypeError(`createSandbox: libraries[${i}] must be { name: non-empty string, source: string }`);
    }
    const filename = lib.filename ?? `library:${lib.name}`;
    checkSandboxSource(lib.source, filename, limits.maxSourceBytes);
    return { name: lib.name, source: lib.source, filename };
  });
  checkSandboxSource(bundle.source, bundle.filename, limits.maxSourceBytes);
  const capabilities = { ...(options.capabilities ?? {}) };
  for (const [name, fn] of Object.entries(capabilities)) {
    if (typeof fn !== 'function') throw new TypeError(`createSandbox: capability "${name}" must be a function`);
  }
  const sandbox = new WorkerSandbox(bundle.filename, capabilities, limits, options.onLog);
  await sandbox.start({
    sesSource: sesSource(),
    prelude: CONTEXT_PRELUDE,
    libraries,
    bundle: { source: bundle.source, filename: bundle.filename },
    capabilityNames: Object.keys(capabilities),
    timeoutMs: limits.timeoutMs,
    externalMemoryBytes: limits.externalMemoryMb * 1024 * 1024,
  });
  return sandbox;
}

type ResolvedLimits = Required<SandboxLimits>;

function resolveLimits(limits: SandboxLimits = {}): ResolvedLimits {
  const resolved: ResolvedLimits = {
    memoryMb: limits.memoryMb ?? 128,
    externalMemoryMb: limits.externalMemoryMb ?? 1024,
    timeoutMs: limits.timeoutMs ?? 2000,
    callTimeoutMs: limits.callTimeoutMs ?? 120_000,
    loadTimeoutMs: limits.loadTimeoutMs ?? 30_000,
    maxSourceBytes: limits.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`createSandbox: limits.${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (resolved.memoryMb < 16) throw new RangeError('createSandbox: limits.memoryMb must be at least 16 (SES needs room to start)');
  return resolved;
}

class WorkerSandbox implements Sandbox {
  private worker: Worker | null = null;
  private failure: Error | null = null;
  private loaded: SandboxManifest | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private guard: MemoryGuard | null = null;
  private readonly busy = new Int32Array(new SharedArrayBuffer(8));
  private readonly label: string;

  constructor(
    filename: string,
    private readonly capabilities: Record<string, SandboxCapability>,
    private readonly limits: ResolvedLimits,
    private readonly onLog: CreateSandboxOptions['onLog'],
  ) {
    this.label = `sandbox for ${filename}`;
  }

  get alive(): boolean {
    return this.failure === null && this.worker !== null;
  }

  start(workerData: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ...workerData, busy: this.busy.buffer },
        resourceLimits: {
          maxOldGenerationSizeMb: this.limits.memoryMb,
          maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(this.limits.memoryMb / 8))),
          stackSizeMb: 4,
        },
        // An escape inside the worker would see an empty environment and no inherited flags.
        env: {},
        argv: [],
        execArgv: [],
        stdout: true,
        stderr: true,
        name: this.label,
      });
      this.worker = worker;
      // An idle sandbox must not keep the host process alive (a CLI that never calls
      // dispose() still exits); calls in flight hold their own timers.
      worker.unref();
      this.guard = startMemoryGuard({
        busy: this.busy,
        limitBytes: (this.limits.externalMemoryMb + this.limits.memoryMb + 64) * 1024 * 1024,
        onExceeded: (grown) =>
          this.fail(new SandboxMemoryError(this.label, `process memory grew ${Math.round(grown / 1048576)} MiB during one entry`)),
      });
      const loadTimer = setTimeout(
        () => this.fail(new SandboxTimeoutError(`Loading the ${this.label}`, this.limits.loadTimeoutMs)),
        this.limits.loadTimeoutMs,
      );
      this.pending.set(0, {
        what: `loading the ${this.label}`,
        timer: loadTimer,
        resolve: () => resolve(),
        reject,
      });
      worker.on('message', (m: WorkerMessage) => this.onMessage(m));
      worker.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          this.fail(new SandboxMemoryError(this.label, `the ${this.limits.memoryMb} MB heap limit was reached`));
        } else {
          this.fail(new SandboxCrashedError(this.label, `its worker failed: ${err.message}`));
        }
      });
      worker.on('exit', (code) => this.fail(new SandboxCrashedError(this.label, `its worker exited (code ${code})`)));
    });
  }

  manifest(): SandboxManifest {
    if (this.loaded === null) throw new SandboxCrashedError(this.label, 'it never finished loading');
    return structuredClone(this.loaded);
  }

  call(target: string, method: string | null, ...args: SandboxValue[]): Promise<SandboxValue> {
    return this.send('call', target, method ?? '', args);
  }

  async construct(target: string, ...args: SandboxValue[]): Promise<string> {
    const handle = await this.send('construct', target, '', args);
    if (typeof handle !== 'string') throw new SandboxCrashedError(this.label, 'it answered construct() without a handle');
    return handle;
  }

  release(handle: string): void {
    if (this.alive) this.worker!.postMessage({ type: 'release', target: String(handle) });
  }

  async dispose(): Promise<void> {
    this.fail(new SandboxCrashedError(this.label, 'it was disposed'));
  }

  private send(mode: 'call' | 'construct', target: string, method: string, args: SandboxValue[]): Promise<SandboxValue> {
    if (typeof target !== 'string' || typeof method !== 'string') {
      return Promise.reject(new TypeError('Sandbox.call(target, method, ...args): target and method must be strings'));
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    let encoded;
    try {
      encoded = encodeSandboxValue(args);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    const what = `${target}${method ? '.' + method : ''}() in the ${this.label}`;
    return new Promise<SandboxValue>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new SandboxTimeoutError(`Calling ${what}`, this.limits.callTimeoutMs)),
        this.limits.callTimeoutMs,
      );
      this.pending.set(id, { resolve, reject, timer, what });
      this.worker!.postMessage({ type: 'call', id, mode, target, method, json: encoded.json, buffers: encoded.buffers }, encoded.buffers);
    });
  }

  private settle(id: number, outcome: { value: SandboxValue } | { error: Error }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.value);
  }

  private onMessage(m: WorkerMessage): void {
    if (this.failure !== null) return;
    switch (m.type) {
      case 'ready':
        this.loaded = JSON.parse(m.manifest) as SandboxManifest;
        this.settle(0, { value: null });
        break;
      case 'load-error':
        this.fail(new RemoteCodeError(`Loading the ${this.label}`, m.error));
        break;
      case 'fatal':
        this.fail(this.fatalError(m.kind, m.message));
        break;
      case 'return':
        if (m.ok) {
          let value: SandboxValue;
          try {
            value = decodeSandboxValue(m.json ?? 'null', m.buffers);
          } catch (err) {
            this.settle(m.id, { error: err as Error });
            break;
          }
          this.settle(m.id, { value });
        } else {
          const p = this.pending.get(m.id);
          this.settle(m.id, { error: new RemoteCodeError(p ? p.what : this.label, m.error!) });
        }
        break;
      case 'capability':
        void this.serveCapability(m.id, m.name, m.json, m.buffers);
        break;
      case 'log':
        if (this.onLog && LOG_LEVELS.has(m.level) && typeof m.message === 'string') {
          this.onLog(m.level, m.message.replace(CONTROL_CHARS, ''));
        }
        break;
    }
  }

  private fatalError(kind: string, message: string): SandboxError {
    if (kind === 'timeout') return new SandboxTimeoutError(`Code in the ${this.label}`, this.limits.timeoutMs);
    if (kind === 'memory') return new SandboxMemoryError(this.label, message);
    return new SandboxCrashedError(this.label, message);
  }

  private async serveCapability(id: number, name: string, json: string, buffers: ArrayBuffer[]): Promise<void> {
    let reply: { type: 'settle'; id: number; ok: boolean; json?: string; message?: string; buffers: ArrayBuffer[] };
    try {
      if (!Object.hasOwn(this.capabilities, name)) throw new Error(`the host provides no capability named "${name}"`);
      const args = decodeSandboxValue(json, buffers) as SandboxValue[];
      const result = await this.capabilities[name](...args);
      const encoded = encodeSandboxValue(result === undefined ? null : result);
      reply = { type: 'settle', id, ok: true, json: encoded.json, buffers: encoded.buffers };
    } catch (err) {
      // Only the message string crosses; the host error object stays here.
      const message = err instanceof Error ? err.message : String(err);
      reply = { type: 'settle', id, ok: false, message, buffers: [] };
    }
    if (this.failure === null) this.worker!.postMessage(reply, reply.buffers);
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.guard?.stop();
    for (const id of [...this.pending.keys()]) this.settle(id, { error });
    void this.worker?.terminate();
  }
}


