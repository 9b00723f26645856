/** Helpers for the end-to-end tests: a work folder inside the repo, child processes, drawn test images. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runCli } from '@modular-diffusers/cli';
import { PipelineImage, type RgbImage } from '@modular-diffusers/runtime';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_MODULES = join(REPO_ROOT, 'node_modules');

/**
 * A fresh folder under tests/.work: inside the monorepo, so code placed there resolves
 * `@modular-diffusers/*`, vitest and TypeScript through the root node_modules like a workspace package.
 */
export async function workDir(): Promise<string> {
  const base = join(REPO_ROOT, 'tests', '.work');
  await mkdir(base, { recursive: true });
  return mkdtemp(join(base, 'e2e-'));
}

export async function modular(args: string[], env: Record<string, string>, cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'modular', ...args], {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    env: { ...process.env, ...env },
    cwd,
    progressBars: false,
  });
  return { code, out: out.join(''), err: err.join('') };
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in a new process (sources through tsx, as `npm run demo` does). */
export function node(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

export const tsxArgs = (script: string, ...rest: string[]) => ['--conditions=source', '--import', 'tsx', script, ...rest];
export const binary = (pkg: string, path: string) => join(NODE_MODULES, pkg, path);

/** A red apple on a light table, the guide's input picture drawn here (this machine has no internet). */
export function drawApple(size: number): PipelineImage {
  const data = new Uint8Array(size * size * 3);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c * 1.1) ** 2 < (size * 0.32) ** 2;
      data.set(inside ? [196, 30, 40] : [235, 225, 205], (y * size + x) * 3);
    }
  }
  return new PipelineImage({ width: size, height: size, channels: 3, data });
}

/** A change map: black on the left half, white on the right half. */
export function drawHalfMap(size: number): PipelineImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = x < size / 2 ? 0 : 255;
  return new PipelineImage({ width: size, height: size, channels: 1, data });
}

/** Mean absolute difference of two RGB images over the columns [x0, x1). */
export function meanDifference(a: RgbImage, b: RgbImage, x0: number, x1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = x0; x < x1; x++) {
      for (let ch = 0; ch < 3; ch++) {
        sum += Math.abs(a.data[(y * a.width + x) * 3 + ch]! - b.data[(y * b.width + x) * 3 + ch]!);
        n++;
      }
    }
  }
  return sum / n;
}
