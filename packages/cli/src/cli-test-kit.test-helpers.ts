/** Test helpers: captured CLI output, temp folders, a scaffolded plugin and a tiny SDXL repo. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from './program.js';

export function capture(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), progressBars: false, ...extra };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

/** Runs `modular <args...>` in-process; returns the exit code and what it printed. */
export async function modular(args: string[], extra: Partial<CliIo> = {}) {
  const c = capture(extra);
  const code = await runCli(['node', 'modular', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

const dirs: string[] = [];

export async function tempDir(prefix = 'modular-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
