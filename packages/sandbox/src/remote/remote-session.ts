/**
 * One sandbox running one remote pipeline: the sandbox process with the host
 * libraries, the wrapped plugin bundle, and the two capabilities the driver
 * uses (`invokeComponent`, `reportProgress`). The capabilities answer only
 * after the session is bound to its pipeline, and only for that pipeline.
 */
import { getLogger, type Logger } from '@modular-diffusers/core';
import { createSandbox, type Sandbox, type SandboxClock, type SandboxLimits, type SandboxLogLevel } from '../sandbox/create-sandbox.js';
import { escapeLogText } from '../sandbox/log-text.js';
import type { SandboxValue } from '../sandbox/sandbox-value.js';
import { RemoteComponentAccessError, RemotePipelineError } from './remote-errors.js';
import {
  REMOTE_DRIVER_EXPORT,
  REMOTE_PROTOCOL_VERSION,
  type RemoteDescribeResult,
  type RemoteInitRequest,
  type RemoteProgress,
  type RemoteRunRequest,
  type RemoteSyncRequest,
} from './remote-protocol.js';
import { getSandboxLibraries, type SandboxLibrariesOptions } from './sandbox-libraries.js';
import { wrapPluginBundle } from './wrap-plugin-bundle.js';

/** A trusted plugin bundle and what to build from it. */
export interface RemoteSource {
  /** The bundle text exactly as it was hashed and pinned. */
  source: string;
  /** Names the bundle in stack traces, e.g. `hf://owner/name@<commit>/block.js`. */
  filename: string;
  /** The export `auto_map` names: a blocks class, a block instance or a preset dict. */
  exportName: string;
  repo: string | null;
  commit: string | null;
}

export interface RemoteSandboxOptions {
  /** Sandbox limits; defaults in DEFAULT_REMOTE_LIMITS. */
  limits?: SandboxLimits;
  /** Where the sandbox libraries are cached (and whether SDXL blocks are included). */
  libraries?: SandboxLibrariesOptions;
  /**
   * Receives the sandbox's console output, one line per console call prefixed with the repo
   * (`[org/name] ...`, control and bidi characters escaped), and one error line naming the
   * plugin when its sandbox is stopped for what its code did (default: the engine logger).
   */
  logger?: Logger;
  /** Timers for the load and call budgets (default: the real ones; tests advance their own). */
  clock?: SandboxClock;
}

/**
 * Limits for a sandbox that runs a whole pipeline. A call (one run) may take hours of model time on
 * the host; each slice of plugin JavaScript between two model calls gets 10 s of CPU.
 */
export const DEFAULT_REMOTE_LIMITS: Required<Omit<SandboxLimits, 'maxSourceBytes'>> = Object.freeze({
  memoryMb: 512,
  externalMemoryMb: 2048,
  timeoutMs: 10_000,
  callTimeoutMs: 6 * 60 * 60 * 1000,
  loadTimeoutMs: 30_000,
});

/** What a session serves its capabilities from once bound. */
export interface RemoteSessionHost {
  invokeComponent(...args: SandboxValue[]): Promise<SandboxValue>;
  reportProgress(runId: number, event: RemoteProgress): void;
}

export class RemoteSession {
  private host: RemoteSessionHost | null = null;

  private constructor(
    private readonly sandbox: Sandbox,
    readonly source: RemoteSource,
  ) {}

  /** Starts the sandbox process, loads the libraries and the wrapped bundle. Rejects like createSandbox. */
  static async start(source: RemoteSource, options: RemoteSandboxOptions = {}): Promise<RemoteSession> {
    const libraries = await getSandboxLibraries(options.libraries);
    const logger = options.logger ?? getLogger();
    // Every line from remote code says whose it is; the repo (or local folder) is escaped like the text.
    const label = `[${escapeLogText(source.repo ?? source.filename)}] `;
    let session: RemoteSession | null = null;
    const sandbox = await createSandbox({
      bundle: { source: wrapPluginBundle(source.source), filename: source.filename },
      libraries,
      limits: { ...DEFAULT_REMOTE_LIMITS, ...options.limits },
      capabilities: {
        invokeComponent: (...args) => {
          if (session?.host == null) throw new RemoteComponentAccessError('components can only be used while the pipeline runs');
          return session.host.invokeComponent(...args);
        },
        reportProgress: (runId, event) => {
          if (typeof runId === 'number' && event !== null && typeof event === 'object' && !Array.isArray(event)) {
            const e = event as Record<string, unknown>;
            session?.host?.reportProgress(runId, {
              block: String(e.block ?? ''),
              step: Number(e.step),
              total: typeof e.total === 'number' ? e.total : null,
            });
          }
          return null;
        },
      },
      clock: options.clock,
      onStop: (error) => logger.error(`${label}remote code stopped: ${error.message}`),
      onLog: (level: SandboxLogLevel, message: string) => {
        const text = `${label}${message}`;
        if (level === 'error') logger.error(text);
        else if (level === 'warn') logger.warn(text);
        else if (level === 'debug') logger.debug(text);
        else logger.info(text);
      },
    });
    session = new RemoteSession(sandbox, source);
    return session;
  }

  get alive(): boolean {
    return this.sandbox.alive;
  }

  /** Serves the capabilities from `host` from now on; a session serves one pipeline for its whole life. */
  bind(host: RemoteSessionHost): void {
    if (this.host !== null) throw new RemotePipelineError('this sandbox already serves a pipeline; each pipeline gets its own sandbox');
    this.host = host;
  }

  async describe(path: readonly string[] = []): Promise<RemoteDescribeResult> {
    const result = (await this.driver('describe', this.source.exportName, [...path])) as unknown as RemoteDescribeResult;
    if (result?.protocol !== REMOTE_PROTOCOL_VERSION) {
      throw new RemotePipelineError(`the sandbox driver speaks protocol ${String(result?.protocol)}, the host ${REMOTE_PROTOCOL_VERSION}; reinstall @modular-diffusers/hub`);
    }
    return result;
  }

  async init(request: RemoteInitRequest): Promise<{ pipelineClassName: string }> {
    return (await this.driver('init', request as unknown as SandboxValue)) as { pipelineClassName: string };
  }

  async sync(request: RemoteSyncRequest): Promise<void> {
    await this.driver('sync', request as unknown as SandboxValue);
  }

  run(request: RemoteRunRequest): Promise<SandboxValue> {
    return this.driver('run', request as unknown as SandboxValue);
  }

  async abort(runId: number, reason: string): Promise<void> {
    await this.driver('abort', runId, reason);
  }

  dispose(): Promise<void> {
    return this.sandbox.dispose();
  }

  private driver(method: string, ...args: SandboxValue[]): Promise<SandboxValue> {
    return this.sandbox.call(REMOTE_DRIVER_EXPORT, method, ...args);
  }
}
