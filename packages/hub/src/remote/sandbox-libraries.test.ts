import { describe, expect, test } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxLibraryBuildError } from './remote-errors.js';
import { bundleSandboxEntry, clearSandboxLibraryCache, getSandboxLibraries } from './sandbox-libraries.js';

describe('sandbox libraries', () => {
  test('one bundle plus alias libraries, cached in memory and on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-libs-'));
    try {
      const libraries = await getSandboxLibraries({ cacheDir: dir, sdxl: false });
      expect(libraries.map((l) => l.name)).toEqual([
        '@modular-diffusers/core',
        '@modular-diffusers/runtime/tensor',
        '@modular-diffusers/runtime',
        '@modular-diffusers/diffusion',
        '@modular-diffusers/remote-driver',
      ]);
      expect(libraries[0]!.source).toMatch(/PipelineBlock = class extends ModularPipelineBlocks|class PipelineBlock extends/);
      expect(await getSandboxLibraries({ cacheDir: dir, sdxl: false })).toBe(libraries);
      expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      clearSandboxLibraryCache();
      expect(await getSandboxLibraries({ cacheDir: dir, sdxl: false })).toEqual(libraries);
    } finally {
      clearSandboxLibraryCache();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a Node built-in, onnxruntime or sharp reachable from a sandbox entry fails the build loudly', async () => {
    for (const [imported, message] of [
      ['node:fs', /the Node built-in 'node:fs'.*cannot run in the sandbox/],
      ['path', /the Node built-in 'path'/],
      ['sharp', /'sharp'.*must stay on the host/],
      ['onnxruntime-node', /'onnxruntime-node'.*must stay on the host/],
    ] as const) {
      const error = await bundleSandboxEntry(`import * as x from '${imported}'; console.log(x);`).catch((e) => e);
      expect(error).toBeInstanceOf(SandboxLibraryBuildError);
      expect(error.message).toMatch(message);
    }
  });
});
