/**
 * The second wall: each sandbox runs in a Node.js process of its own, started under Node's
 * permission model, so that code which got out of the vm context (an escape we have not found)
 * lands in a process that cannot read or write the user's files, start programs or threads, load
 * native addons, or see the host's environment. The vm context with SES inside it stays the first
 * wall; this process replaces the Worker thread it used to live in.
 *
 * Nothing here grants back what the permission model takes away: there is no `--allow-*` flag at
 * all (the program arrives as `-e` text and its sources over the IPC channel, so the process reads
 * no file). On Node 20 the permission model does not cover the network or signals; SECURITY.md
 * says how an operator closes those (MODULAR_DIFFUSERS_SANDBOX_LAUNCHER starts the process in a
 * network namespace, a firejail, or any wrapper of their choosing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { sandboxProcessSource } from './sandbox-process-source.js';

/** `--permission` from Node 22.13/23.5 on, `--experimental-permission` before. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/**
 * The Node.js options a sandbox process starts with. Tests read them to check that no flag
 * re-grants a permission.
 */
export function sandboxProcessFlags(limits: { memoryMb: number }): string[] {
  const semiSpaceMb = Math.max(1, Math.min(16, Math.floor(limits.memoryMb / 16)));
  return [
    // File system (no read, no write), child processes, worker threads, WASI and the inspector are denied.
    permissionFlag(),
    // Native addons could do anything; the permission model also refuses them, this says it twice.
    '--no-addons',
    // An escape into this realm cannot compile strings either: the classic constructor-chain exploit
    // (`x.constructor.constructor('...')`) throws EvalError here too.
    '--disallow-code-generation-from-strings',
    `--max-old-space-size=${limits.memoryMb}`,
    `--max-semi-space-size=${semiSpaceMb}`,
    // The experimental-feature warning would be the only thing this process ever prints.
    '--no-warnings',
  ];
}

/**
 * The operator's wrapper for sandbox processes: `MODULAR_DIFFUSERS_SANDBOX_LAUNCHER`, a command
 * the sandbox's `node` is started under, e.g. `unshare --user --map-root-user --net` (a network
 * namespace of its own: no network at all) or `firejail --quiet --net=none`. Read from the
 * process environment only; words split on whitespace, or a JSON array of strings. Empty: none.
 */
export const SANDBOX_LAUNCHER_VARIABLE = 'MODULAR_DIFFUSERS_SANDBOX_LAUNCHER';

export function sandboxLauncher(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const raw = env[SANDBOX_LAUNCHER_VARIABLE]?.trim();
  if (!raw) return [];
  let words: unknown;
  if (raw.startsWith('[')) {
    try {
      words = JSON.parse(raw);
    } catch (error) {
      throw new Error(`${SANDBOX_LAUNCHER_VARIABLE} starts with '[' but is not a JSON array (${(error as Error).message}); give words separated by spaces, or a JSON array of strings.`);
    }
  } else {
    words = raw.split(/\s+/);
  }
  if (!Array.isArray(words) || words.length === 0 || !words.every((w) => typeof w === 'string' && w !== '')) {
    throw new Error(`${SANDBOX_LAUNCHER_VARIABLE} must name a command and its arguments, e.g. "unshare --user --map-root-user --net".`);
  }
  return [resolveCommand(words[0] as string), ...(words.slice(1) as string[])];
}

/** The launcher runs with an empty environment, so its command is looked up here, on the host's PATH. */
function resolveCommand(command: string): string {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`${SANDBOX_LAUNCHER_VARIABLE} names ${JSON.stringify(command)}, which is not an executable on this machine's PATH; install it or give its full path.`);
}

export interface SpawnedSandboxProcess {
  child: ChildProcess;
  /** The last few KB the process wrote to stderr (Node's own fatal messages, e.g. heap exhaustion). */
  stderrTail(): string;
}

/** Starts a sandbox process running `source` (the sandbox program, or a test's variant of it). */
export function spawnSandboxProcess(limits: { memoryMb: number }, source: string = sandboxProcessSource()): SpawnedSandboxProcess {
  const node = [process.execPath, ...sandboxProcessFlags(limits), '-e', source];
  const command = [...sandboxLauncher(), ...node];
  const child = spawn(command[0]!, command.slice(1), {
    // No stdin; stdout is never read (nothing in the sandbox can print to it, an escape could, and
    // must not reach the host's output); stderr is kept for Node's own fatal messages.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // No HF_TOKEN, no NODE_OPTIONS, nothing of the host's environment.
    env: {},
    cwd: tmpdir(),
    serialization: 'advanced',
    windowsHide: true,
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-8192);
  });
  return { child, stderrTail: () => tail };
}

/**
 * Resident memory of a process in bytes, or null where it cannot be read (only Linux's
 * /proc is used: reading it costs no process start).
 */
export async function processRss(pid: number): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** True where the sandbox process's memory can be watched while it runs (see processRss). */
export const CAN_WATCH_PROCESS_MEMORY = process.platform === 'linux';
