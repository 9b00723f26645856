/**
 * A tiny pluggable logger. The engine also runs inside a sandboxed realm
 * where `console` may not exist, so the default logger looks it up lazily and
 * stays silent without it. info/debug are off by default, like diffusers'
 * WARNING level.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type ConsoleLike = { warn?: (m: string) => void; error?: (m: string) => void };

function hostConsole(): ConsoleLike | undefined {
  return (globalThis as { console?: ConsoleLike }).console;
}

export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(message) {
    hostConsole()?.warn?.(message);
  },
  error(message) {
    hostConsole()?.error?.(message);
  },
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let current: Logger = consoleLogger;

/** Replaces the engine-wide logger; returns the previous one so tests can restore it. */
export function setLogger(logger: Logger): Logger {
  const previous = current;
  current = logger;
  return previous;
}

export function getLogger(): Logger {
  return current;
}

/** A logger that records every message, for tests and for surfacing warnings in a UI. */
export class MemoryLogger implements Logger {
  readonly messages: Array<{ level: 'debug' | 'info' | 'warn' | 'error'; message: string }> = [];
  debug(message: string): void {
    this.messages.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.messages.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.messages.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.messages.push({ level: 'error', message });
  }
  of(level: 'debug' | 'info' | 'warn' | 'error'): string[] {
    return this.messages.filter((m) => m.level === level).map((m) => m.message);
  }
}
