import { escapeLogText } from './log-text.js';

/** Base class of every error the sandbox raises on the host side. */
export class SandboxError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A source failed the static checks that run before anything is compiled. */
export class SandboxCodeRejectedError extends SandboxError {
  readonly filename: string;
  constructor(filename: string, reason: string) {
    super(
      'SANDBOX_CODE_REJECTED',
      `${filename} was rejected before running: ${reason}. ` +
        'Rebuild the bundle as one classic script (esbuild --format=iife) that uses no import() and no HTML comments.',
    );
    this.filename = filename;
  }
}

/** Sandboxed code ran past its CPU slice or a call ran past its wall-clock budget; its process was stopped. */
export class SandboxTimeoutError extends SandboxError {
  readonly limitMs: number;
  constructor(what: string, limitMs: number) {
    super(
      'SANDBOX_TIMEOUT',
      `${what} ran longer than ${limitMs} ms, so its process was stopped. ` +
        'Raise limits.timeoutMs / limits.callTimeoutMs if the plugin is legitimately slow, otherwise report the plugin.',
    );
    this.limitMs = limitMs;
  }
}

/** Sandboxed code exceeded its heap or ArrayBuffer budget; its process was stopped. */
export class SandboxMemoryError extends SandboxError {
  constructor(what: string, detail: string) {
    super(
      'SANDBOX_MEMORY',
      `${what} exceeded its memory budget (${detail}), so its process was stopped. ` +
        'Raise limits.memoryMb / limits.externalMemoryMb if the plugin legitimately needs more.',
    );
  }
}

/**
 * Plugin code kept working after the host call it served had returned: it asked for a capability
 * or logged while no host call was in flight, or flooded the host during one. It was stopped.
 */
export class SandboxOutOfTurnError extends SandboxError {
  constructor(what: string, detail: string) {
    super(
      'SANDBOX_OUT_OF_TURN',
      `${what} kept working when no call of the host was waiting on it (${detail}), so it was stopped. ` +
        "A plugin's work must be done when its call returns (await every promise it starts); report the plugin to its author.",
    );
  }
}

/** The sandbox is gone (crashed, stopped after an earlier failure, or disposed). */
export class SandboxCrashedError extends SandboxError {
  constructor(what: string, detail: string) {
    super('SANDBOX_CRASHED', `${what} is not running: ${detail}. Create a new sandbox to continue.`);
  }
}

/** Strings describing an error thrown inside the sandbox; never the thrown object itself. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack: string;
}

/** Plugin code threw (or rejected). Carries the sandboxed error's name, message and stack as plain strings. */
export class RemoteCodeError extends SandboxError {
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string;
  constructor(where: string, info: RemoteErrorInfo) {
    // The name and message are the plugin's text: one line, control and bidi characters escaped.
    super('SANDBOX_REMOTE_ERROR', `${where} threw ${escapeLogText(info.name)}: ${escapeLogText(info.message)}`);
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
  }
}
