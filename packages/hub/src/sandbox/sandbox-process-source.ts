import { assembleSandboxScript } from './assemble-sandbox-script.js';

let cached: string | undefined;

/**
 * The program each sandbox process runs (`node <permission flags> -e <this>`, see
 * sandbox-process.ts): process-program/main.js, `// @ts-check` JavaScript read as text (see
 * assemble-sandbox-script.ts) and handed to the process as an argument, so the process needs no
 * file read to start. The build copies process-program/ next to dist, so the same file serves
 * the sources under vitest and the published package.
 */
export function sandboxProcessSource(): string {
  cached ??= `'use strict';\n${assembleSandboxScript(new URL('./process-program/', import.meta.url), ['main.js'])}`;
  return cached;
}

/**
 * The same program with `extra` appended, run in the process's own realm (outside the vm
 * context). Only the second-wall tests use it, to run code where an escape would land.
 */
export function sandboxProcessSourceWith(extra: string): string {
  return `${sandboxProcessSource()}\n;{\n${extra}\n}\n`;
}
