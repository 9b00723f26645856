/**
 * `.npmrc` holds only settings npm itself knows, so no npm command warns about the project config
 * (npm 11 warned `Unknown project config "onnxruntime-node-install"` on every command), and install
 * scripts stay off so onnxruntime-node's CUDA download from outside the npm registry never runs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './e2e-kit.js';

function npm(args: string[]) {
  const result = spawnSync('npm', args, { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('the npm configuration', () => {
  it('npm reads .npmrc without a warning, with install scripts off', () => {
    const listed = npm(['run']);
    expect(listed.code).toBe(0);
    expect(listed.stderr).not.toMatch(/npm warn/i);
    expect(listed.stdout).toContain('demo');
    const setting = npm(['config', 'get', 'ignore-scripts']);
    expect(setting.stderr).not.toMatch(/npm warn/i);
    expect(setting.stdout.trim()).toBe('true');
    // Every line of .npmrc is a setting npm knows (a comment, or key=value).
    const lines = readFileSync(join(REPO_ROOT, '.npmrc'), 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(lines.map((l) => l.split('=')[0])).toEqual(['ignore-scripts', 'fund', 'audit']);
  });
});
