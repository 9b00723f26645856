import { escapeLogText } from './log-text.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

/** Base class of every error the sandbox raises on the host side. */
export class SandboxError extends ModularDiffusersError {
  static override readonly code: string = 'SANDBOX';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A source failed the static checks that run before anything is compiled. */
export class SandboxCodeRejectedError extends SandboxError {
  static override readonly code: string = 'SANDBOX_CODE_REJECTED';
  readonly filename: string;
  constructor(filename: string, reason: string) {
    super(`${filename} was rejected before running: ${reason}. ` +
        'Rebuild the bundle as one classic script (esbuild --format=iife) that uses no import() and no HTML comments.',
    );
    this.filename = filename;
  }
}

/** Sandboxed code ran past its CPU slice or a call ran past its wall-clock budget; its process was stopped. */
export class SandboxTimeoutError extends SandboxError {
  static override readonly code: string = 'SANDBOX_TIMEOUT';
  readonly limitMs: number;
  constructor(what: string, limitMs: number) {
    super(`${what} ran longer than ${limitMs} ms, so its process was stopped. ` +
        'Raise limits.timeoutMs / limits.callTimeoutMs if the plugin is legitimately slow, otherwise report the plugin.',
    );
    this.limitMs = limitMs;
  }
}

/** Sandboxed code exceeded its heap or ArrayBuffer budget; its process was stopped. */
export class SandboxMemoryError extends SandboxError {
  static override readonly code: string = 'SANDBOX_MEMORY';
  constructor(what: string, detail: string) {
    super(`${what} exceeded its memory budget (${detail}), so its process was stopped. ` +
        'Raise limits.memoryMb / limits.externalMemoryMb if the plugin legitimately needs more.',
    );
  }
}

/**
 * Plugin code kept working after the host call it served had returned: it asked for a capability
 * or logged while no host call was in flight, or flooded the host during one. It was stopped.
 */
export class SandboxOutOfTurnError extends SandboxError {
  static override readonly code: string = 'SANDBOX_OUT_OF_TURN';
  constructor(what: string, detail: string) {
    super(`${what} kept working when no call of the host was waiting on it (${detail}), so it was stopped. ` +
        "A plugin's work must be done when its call returns (await every promise it starts); report the plugin to its author.",
    );
  }
}

/** The sandbox is gone (crashed, stopped after an earlier failure, or disposed). */
export class SandboxCrashedError extends SandboxError {
  static override readonly code: string = 'SANDBOX_CRASHED';
  constructor(what: string, detail: string) {
    super(`${what} is not running: ${detail}. Create a new sandbox to continue.`);
  }
}

/** Strings describing an error thrown inside the sandbox; never the thrown object itself. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack: string;
  /** The thrown error's `code` when it had a string one (a ModularDiffusersError's kind), else ''. */
  code: string;
}

/** Plugin code threw (or rejected). Carries the sandboxed error's name, message, stack and code as plain strings. */
export class RemoteCodeError extends SandboxError {
  static override readonly code: string = 'SANDBOX_REMOTE_ERROR';
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string;
  /** The sandboxed error's `code` ('' when it had none), e.g. 'SDXL_INPUT' for an SdxlInputError. */
  readonly remoteCode: string;
  constructor(where: string, info: RemoteErrorInfo) {
    // The name and message are the plugin's text: one line, control and bidi characters escaped.
    super(`${where} threw ${escapeLogText(info.name)}: ${escapeLogText(info.message)}`);
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
    this.remoteCode = typeof info.code === 'string' ? info.code : '';
  }
}
