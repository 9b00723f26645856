import { assembleSandboxScript } from './assemble-sandbox-script.js';

/** The program's files (process-program/), in the order they run. */
const PROCESS_PROGRAM_PARTS = ['realm.js', 'context.js', 'transfer.js', 'main.js'] as const;

let cached: string | undefined;

/**
 * The program each sandbox process runs (`node <permission flags> -e <this>`, see
 * sandbox-process.ts): the files of process-program/ (what it takes from Node.js and how it
 * fails, the way into the context, the transfers to and from the host, the message loop),
 * `// @ts-check` JavaScript read as text and joined (see assemble-sandbox-script.ts), then handed
 * to the process as an argument, so the process needs no file read to start. The build copies
 * process-program/ next to dist, so the same files serve the sources under vitest and the
 * published package.
 */
export function sandboxProcessSource(): string {
  cached ??= `'use strict';\n${assembleSandboxScript(new URL('./process-program/', import.meta.url), PROCESS_PROGRAM_PARTS)}`;
  return cached;
}

/**
 * The same program with `extra` appended, run in the process's own realm (outside the vm
 * context). Only the second-wall tests use it, to run code where an escape would land.
 */
export function sandboxProcessSourceWith(extra: string): string {
  return `${sandboxProcessSource()}\n;{\n${extra}\n}\n`;
}
