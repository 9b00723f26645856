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
 * says how an operator closes those.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { SANDBOX_PROCESS_SOURCE } from './sandbox-process-source.js';

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

export interface SpawnedSandboxProcess {
  child: ChildProcess;
  /** The last few KB the process wrote to stderr (Node's own fatal messages, e.g. heap exhaustion). */
  stderrTail(): string;
}

/** Starts a sandbox process running `source` (the sandbox program, or a test's variant of it). */
export function spawnSandboxProcess(limits: { memoryMb: number }, source: string = SANDBOX_PROCESS_SOURCE): SpawnedSandboxProcess {
  const child = spawn(process.execPath, [...sandboxProcessFlags(limits), '-e', source], {
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
