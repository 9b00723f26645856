/** Runs a plugin's own vitest suite in a child process, as `modular publish` requires before uploading. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CliError } from '../errors.js';

export interface PluginTestResult {
  ok: boolean;
  exitCode: number | null;
  output: string;
}

function vitestBin(pluginDir: string): string {
  const require = createRequire(join(pluginDir, 'package.json'));
  let manifest: string;
  try {
    manifest = require.resolve('vitest/package.json');
  } catch {
    throw new CliError(`vitest is not installed where ${pluginDir} can find it; run npm install in the workspace (or pass --skip-tests, loudly).`);
  }
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> }).bin;
  const path = typeof bin === 'string' ? bin : bin?.vitest;
  if (!path) throw new CliError(`${manifest} names no vitest binary; reinstall vitest.`);
  return join(dirname(manifest), path);
}

export function runPluginTests(pluginDir: string, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<PluginTestResult> {
  const bin = vitestBin(pluginDir);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'run'], { cwd: pluginDir, env: { ...env, CI: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ok: code === 0, exitCode: code, output }));
  });
}
