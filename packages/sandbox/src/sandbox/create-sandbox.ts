import type { ChildProcess } from 'node:child_process';
import { DEFAULT_MAX_SOURCE_BYTES, checkSandboxSource } from './check-sandbox-source.js';
import { contextPreludeSource } from './context-prelude.js';
import {
  RemoteCodeError,
  SandboxCrashedError,
  SandboxError,
  SandboxMemoryError,
  SandboxOutOfTurnError,
  SandboxTimeoutError,
  type RemoteErrorInfo,
} from './errors.js';
import { escapeLogText } from './log-text.js';
import { startMemoryGuard, type MemoryGuard } from './memory-guard.js';
import { spawnSandboxProcess, type SpawnedSandboxProcess } from './sandbox-process.js';
import { sandboxProcessSource } from './sandbox-process-source.js';
import { decodeSandboxValue, encodeSandboxValue, type SandboxValue } from './sandbox-value.js';
import { sesSource } from './ses-source.js';

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
  /** V8 old-generation heap of the sandbox process, MB (default 128). */
  memoryMb?: number;
  /** ArrayBuffer bytes the sandbox may hold, MB (default 1024); these live outside the V8 heap. */
  externalMemoryMb?: number;
  /** Budget of each synchronous entry into plugin code, including the promise jobs it drains (default 2000 ms). */
  timeoutMs?: number;
  /** Wall-clock budget of one call, including awaited capabilities (default 120000 ms). */
  callTimeoutMs?: number;
  /** Wall-clock budget for starting the sandbox process and loading libraries and bundle (default 30000 ms). */
  loadTimeoutMs?: number;
  /** UTF-8 size cap of each source (default 16 MiB). */
  maxSourceBytes?: number;
}

export type SandboxLogLevel = 'debug' | 'info' | 'log' | 'warn' | 'error';

/**
 * The timers the load and call budgets run on. The default is the real clock; a test that is
 * about a budget running out passes a clock it advances by hand, so the outcome does not depend
 * on how busy the machine is.
 */
export interface SandboxClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface CreateSandboxOptions {
  bundle: SandboxBundle;
  libraries?: readonly SandboxLibrary[];
  capabilities?: Readonly<Record<string, SandboxCapability>>;
  limits?: SandboxLimits;
  /**
   * Receives the sandbox's console output, one call per console call, as ONE line: line breaks,
   * control characters and bidi/invisible formatting characters are escaped (`\n`, `\u202e`).
   * Dropped when absent.
   */
  onLog?: (level: SandboxLogLevel, message: string) => void;
  /**
   * Told once when a loaded sandbox stops because of what its code did (a budget ran out, memory
   * ran out, it kept working between calls, its process died); not when it is disposed, and not
   * for a failed load (createSandbox rejects then). The same error rejects the calls in flight
   * and every later call.
   */
  onStop?: (error: SandboxError) => void;
  /** Timers for the load and call budgets (default: the real ones). */
  clock?: SandboxClock;
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
  /** Stops the sandbox process; pending calls reject with SandboxCrashedError. */
  dispose(): Promise<void>;
}

/** Log lines one host call may produce; the rest are dropped (with one line saying so). */
export const MAX_LOG_LINES_PER_CALL = 10_000;
/** Capability calls one sandbox may have in flight at the host (the sandbox's own cap is 4096). */
const MAX_CAPABILITIES_IN_FLIGHT = 4096;
/** RSS the process may grow past its budgets, for code, stacks and what Node allocates itself. */
const RSS_SLACK_BYTES = 64 * 1024 * 1024;

interface Pending {
  resolve: (value: SandboxValue) => void;
  reject: (error: Error) => void;
  timer: unknown;
  what: string;
}

const LOG_LEVELS = new Set<string>(['debug', 'info', 'log', 'warn', 'error']);

/**
 * Starts a sandbox process (see sandbox-process.ts), builds a locked-down vm context in it,
 * evaluates `libraries` then `bundle`, and resolves once the bundle has declared its exports.
 * Rejects with SandboxCodeRejectedError (static checks), RemoteCodeError (the code threw),
 * SandboxTimeoutError or SandboxMemoryError.
 */
export function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  return startSandbox(options);
}

/**
 * createSandbox with the process program replaced (the second-wall tests append code that runs
 * in the process's own realm). Not exported from the package.
 */
export async function startSandbox(options: CreateSandboxOptions, processSource: string = sandboxProcessSource()): Promise<Sandbox> {
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
  const sandbox = new ProcessSandbox(bundle.filename, capabilities, limits, options);
  await sandbox.start(processSource, {
    type: 'load',
    sesSource: sesSource(),
    prelude: contextPreludeSource(),
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

const realClock: SandboxClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

// ---- what the sandbox process may say: checked field by field, since an escape could send anything ----

type BatchItem =
  | { kind: 'capability'; id: number; name: string; json: string; buffers: ArrayBuffer[] }
  | { kind: 'return'; id: number; ok: true; json: string; buffers: ArrayBuffer[] }
  | { kind: 'return'; id: number; ok: false; error: RemoteErrorInfo }
  | { kind: 'log'; level: SandboxLogLevel; message: string };

type ProcessMessage =
  | { type: 'ready'; manifest: string; rss: number }
  | { type: 'load-error'; error: RemoteErrorInfo }
  | { type: 'fatal'; kind: 'timeout' | 'memory' | 'crashed'; message: string }
  | { type: 'batch'; items: BatchItem[] };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isBuffers = (v: unknown): v is ArrayBuffer[] => Array.isArray(v) && v.every((b) => b instanceof ArrayBuffer);

function errorInfo(v: unknown): RemoteErrorInfo | null {
  if (!isRecord(v) || typeof v.name !== 'string' || typeof v.message !== 'string' || typeof v.stack !== 'string') return null;
  return { name: v.name, message: v.message, stack: v.stack, code: typeof v.code === 'string' ? v.code : '' };
}

function batchItem(v: unknown): BatchItem | null {
  if (!isRecord(v)) return null;
  if (v.kind === 'capability') {
    return isId(v.id) && typeof v.name === 'string' && typeof v.json === 'string' && isBuffers(v.buffers)
      ? { kind: 'capability', id: v.id, name: v.name, json: v.json, buffers: v.buffers }
      : null;
  }
  if (v.kind === 'return') {
    if (!isId(v.id)) return null;
    if (v.ok === true) return typeof v.json === 'string' && isBuffers(v.buffers) ? { kind: 'return', id: v.id, ok: true, json: v.json, buffers: v.buffers } : null;
    const error = errorInfo(v.error);
    return v.ok === false && error ? { kind: 'return', id: v.id, ok: false, error } : null;
  }
  if (v.kind === 'log') {
    return typeof v.level === 'string' && LOG_LEVELS.has(v.level) && typeof v.message === 'string'
      ? { kind: 'log', level: v.level as SandboxLogLevel, message: v.message }
      : null;
  }
  return null;
}

function processMessage(v: unknown): ProcessMessage | null {
  if (!isRecord(v)) return null;
  switch (v.type) {
    case 'ready':
      return typeof v.manifest === 'string' && typeof v.rss === 'number' ? { type: 'ready', manifest: v.manifest, rss: v.rss } : null;
    case 'load-error': {
      const error = errorInfo(v.error);
      return error ? { type: 'load-error', error } : null;
    }
    case 'fatal':
      return (v.kind === 'timeout' || v.kind === 'memory' || v.kind === 'crashed') && typeof v.message === 'string'
        ? { type: 'fatal', kind: v.kind, message: v.message }
        : null;
    case 'batch': {
      if (!Array.isArray(v.items)) return null;
      const items: BatchItem[] = [];
      for (const raw of v.items) {
        const item = batchItem(raw);
        if (item === null) return null;
        items.push(item);
      }
      return { type: 'batch', items };
    }
    default:
      return null;
  }
}

class ProcessSandbox implements Sandbox {
  private process: SpawnedSandboxProcess | null = null;
  private failure: Error | null = null;
  private loaded: SandboxManifest | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private guard: MemoryGuard | null = null;
  private readonly label: string;
  private readonly clock: SandboxClock;
  private readyRss = 0;
  private capabilitiesInFlight = 0;
  private logLinesLeft = MAX_LOG_LINES_PER_CALL;
  private disposing = false;

  constructor(
    filename: string,
    private readonly capabilities: Record<string, SandboxCapability>,
    private readonly limits: ResolvedLimits,
    private readonly options: CreateSandboxOptions,
  ) {
    this.label = `sandbox for ${escapeLogText(filename)}`;
    this.clock = options.clock ?? realClock;
  }

  get alive(): boolean {
    return this.failure === null && this.process !== null;
  }

  start(source: string, load: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let spawned: SpawnedSandboxProcess;
      try {
        spawned = spawnSandboxProcess(this.limits, source);
      } catch (error) {
        reject(new SandboxCrashedError(this.label, `its process could not be started: ${(error as Error).message}`));
        return;
      }
      this.process = spawned;
      const child = spawned.child;
      // An idle sandbox must not keep the host process alive (a CLI that never calls dispose() still
      // exits); while the host waits on it, its channel is referenced (see track()).
      child.unref();
      this.pending.set(0, {
        what: `loading the ${this.label}`,
        timer: this.clock.setTimeout(() => this.fail(new SandboxTimeoutError(`Loading the ${this.label}`, this.limits.loadTimeoutMs)), this.limits.loadTimeoutMs),
        resolve: () => resolve(),
        reject,
      });
      this.track();
      child.on('message', (m: unknown) => this.onMessage(m));
      child.on('error', (err: Error) => this.fail(new SandboxCrashedError(this.label, `its process failed: ${err.message}`)));
      // 'close' comes after stderr is drained, so Node's own last words can be read.
      child.on('close', (code, signal) => this.onExit(code, signal));
      if (child.pid !== undefined) {
        this.guard = startMemoryGuard({
          pid: child.pid,
          busy: () => this.pending.size > 0,
          limitBytes: () => (this.readyRss || 128 * 1024 * 1024) + (this.limits.memoryMb + this.limits.externalMemoryMb) * 1024 * 1024 + RSS_SLACK_BYTES,
          onExceeded: (rss) => this.fail(new SandboxMemoryError(this.label, `its process grew to ${Math.round(rss / 1048576)} MiB resident during one entry`)),
        });
      }
      this.post(load);
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
    if (this.alive) this.post({ type: 'release', target: String(handle) });
  }

  async dispose(): Promise<void> {
    this.disposing = true;
    this.fail(new SandboxCrashedError(this.label, 'it was disposed'));
  }

  private post(message: Record<string, unknown>): void {
    const child = this.process?.child;
    if (!child?.connected) return;
    child.send(message, (error) => {
      if (error) this.fail(new SandboxCrashedError(this.label, `its process stopped listening: ${error.message}`));
    });
  }

  /** References the channel while the host waits on the process, so a pending call keeps the host alive. */
  private track(): void {
    const channel = (this.process?.child as (ChildProcess & { channel?: { ref(): void; unref(): void } }) | undefined)?.channel;
    if (this.pending.size > 0) channel?.ref();
    else channel?.unref();
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
      const timer = this.clock.setTimeout(() => this.fail(new SandboxTimeoutError(`Calling ${what}`, this.limits.callTimeoutMs)), this.limits.callTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, what });
      this.logLinesLeft = MAX_LOG_LINES_PER_CALL;
      this.track();
      this.post({ type: 'call', id, mode, target, method, json: encoded.json, buffers: encoded.buffers });
    });
  }

  private settle(id: number, outcome: { value: SandboxValue } | { error: Error }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.clock.clearTimeout(p.timer);
    this.track();
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.value);
  }

  private onMessage(raw: unknown): void {
    if (this.failure !== null) return;
    const m = processMessage(raw);
    if (m === null) {
      this.fail(new SandboxCrashedError(this.label, 'its process sent a message outside the protocol'));
      return;
    }
    switch (m.type) {
      case 'ready':
        if (this.loaded !== null) return this.fail(new SandboxCrashedError(this.label, 'its process said it was ready twice'));
        try {
          this.loaded = JSON.parse(m.manifest) as SandboxManifest;
        } catch {
          return this.fail(new SandboxCrashedError(this.label, 'its process sent an unreadable manifest'));
        }
        this.readyRss = m.rss > 0 && Number.isFinite(m.rss) ? m.rss : 0;
        this.settle(0, { value: null });
        break;
      case 'load-error':
        this.fail(new RemoteCodeError(`Loading the ${this.label}`, m.error));
        break;
      case 'fatal':
        this.fail(this.fatalError(m.kind, m.message));
        break;
      case 'batch':
        this.onBatch(m.items);
        break;
    }
  }

  /**
   * One entry's output, in order. A log line is taken and a capability served only while a call
   * of the host is in flight; work that comes when none is (the plugin kept going after its call
   * returned: a log line or request queued after the return, an answer it left waiting for)
   * stops the sandbox with SandboxOutOfTurnError.
   */
  private onBatch(items: BatchItem[]): void {
    for (const item of items) {
      if (this.failure !== null) return;
      if (item.kind === 'return') {
        if (!this.pending.has(item.id) || item.id === 0) {
          return this.fail(new SandboxCrashedError(this.label, `its process answered call ${item.id}, which is not in flight`));
        }
        if (item.ok) {
          let value: SandboxValue;
          try {
            value = decodeSandboxValue(item.json, item.buffers);
          } catch (err) {
            this.settle(item.id, { error: err as Error });
            continue;
          }
          this.settle(item.id, { value });
        } else {
          this.settle(item.id, { error: new RemoteCodeError(this.pending.get(item.id)!.what, item.error) });
        }
      } else if (item.kind === 'capability') {
        if (this.pending.size === 0) {
          return this.stopOutOfTurn(`it asked for capability "${escapeLogText(item.name.slice(0, 100))}" after its call had returned`);
        }
        if (this.capabilitiesInFlight >= MAX_CAPABILITIES_IN_FLIGHT) {
          return this.stopOutOfTurn(`it had more than ${MAX_CAPABILITIES_IN_FLIGHT} capability calls in flight`);
        }
        void this.serveCapability(item.id, item.name, item.json, item.buffers);
      } else {
        if (this.pending.size === 0) return this.stopOutOfTurn('it logged after its call had returned');
        this.log(item.level, item.message);
      }
    }
  }

  private log(level: SandboxLogLevel, message: string): void {
    if (!this.options.onLog) return;
    if (this.logLinesLeft <= 0) return;
    this.logLinesLeft -= 1;
    if (this.logLinesLeft === 0) {
      this.options.onLog('warn', `further log lines of this call are dropped (more than ${MAX_LOG_LINES_PER_CALL})`);
      return;
    }
    this.options.onLog(level, escapeLogText(message));
  }

  private stopOutOfTurn(detail: string): void {
    this.fail(new SandboxOutOfTurnError(`The ${this.label}`, detail));
  }

  private fatalError(kind: string, message: string): SandboxError {
    if (kind === 'timeout') return new SandboxTimeoutError(`Code in the ${this.label}`, this.limits.timeoutMs);
    if (kind === 'memory') return new SandboxMemoryError(this.label, escapeLogText(message));
    return new SandboxCrashedError(this.label, escapeLogText(message));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.failure !== null) return;
    const stderr = this.process?.stderrTail() ?? '';
    if (/heap out of memory|Reached heap limit/i.test(stderr)) {
      this.fail(new SandboxMemoryError(this.label, `the ${this.limits.memoryMb} MB heap limit was reached`));
    } else if (signal === 'SIGKILL') {
      this.fail(new SandboxCrashedError(this.label, 'its process was killed (SIGKILL; the system may have run out of memory)'));
    } else {
      this.fail(new SandboxCrashedError(this.label, `its process exited (${signal ?? `code ${code}`})`));
    }
  }

  private async serveCapability(id: number, name: string, json: string, buffers: ArrayBuffer[]): Promise<void> {
    this.capabilitiesInFlight += 1;
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
    } finally {
      this.capabilitiesInFlight -= 1;
    }
    if (this.failure !== null) return;
    // An answer that comes after every call returned is not delivered: entering the sandbox then
    // would run plugin code that no call is waiting for. The plugin left work going past its call.
    if (this.pending.size === 0) {
      this.stopOutOfTurn(`its call returned while capability "${escapeLogText(name.slice(0, 100))}" it had asked for was still running`);
      return;
    }
    this.post(reply);
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.guard?.stop();
    for (const id of [...this.pending.keys()]) this.settle(id, { error });
    const child = this.process?.child;
    // Closing the channel also ends a process a launcher started below its own pid (it exits on 'disconnect').
    if (child?.connected) child.disconnect();
    child?.kill('SIGKILL');
    // A failure while loading is the caller's rejection of createSandbox, not a report.
    if (!this.disposing && this.loaded !== null && error instanceof SandboxError) {
      try {
        this.options.onStop?.(error);
      } catch {
        // A reporting callback that throws must not keep the sandbox from stopping.
      }
    }
  }
}
