import { describe, expect, test } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSandboxEntry } from '../../scripts/bundle-sandbox-libraries.js';
import { writePrebuiltLibraries } from '../../scripts/build-sandbox-libraries.js';
import { SandboxLibraryBuildError } from './remote-errors.js';
import { clearSandboxLibraryCache, getSandboxLibraries, readPrebuiltLibraries } from './sandbox-libraries.js';

const BASE_NAMES = [
  '@modular-diffusers/core',
  '@modular-diffusers/runtime/tensor',
  '@modular-diffusers/runtime',
  '@modular-diffusers/diffusion',
  '@modular-diffusers/remote-driver',
];

describe('sandbox libraries', () => {
  test('from source: one bundle plus alias libraries, cached in memory and on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-libs-'));
    try {
      const libraries = await getSandboxLibraries({ cacheDir: dir, sdxl: false });
      expect(libraries.map((l) => l.name)).toEqual(BASE_NAMES);
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

  test('a Node built-in, onnxruntime, sharp or a host-only package reachable from a sandbox entry fails the build loudly', async () => {
    for (const [imported, message] of [
      ['node:fs', /the Node built-in 'node:fs'.*cannot run in the sandbox/],
      ['path', /the Node built-in 'path'/],
      ['sharp', /'sharp'.*must stay on the host/],
      ['onnxruntime-node', /'onnxruntime-node'.*must stay on the host/],
      ['@modular-diffusers/hub', /'@modular-diffusers\/hub'.*must stay on the host/],
      ['@modular-diffusers/sandbox', /'@modular-diffusers\/sandbox'.*must stay on the host/],
    ] as const) {
      const error = await bundleSandboxEntry(`import * as x from '${imported}'; console.log(x);`).catch((e) => e);
      expect(error).toBeInstanceOf(SandboxLibraryBuildError);
      expect(error.message).toMatch(message);
    }
  });

  describe('prebuilt (what the package build writes into dist/sandbox-libraries)', () => {
    test('are read back without bundling, and refused with a rebuild hint when the installed versions differ', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-prebuilt-'));
      try {
        const manifest = await writePrebuiltLibraries(dir, ['base'], { fromSource: true });
        expect(Object.keys(manifest.variants)).toEqual(['base']);
        const libraries = await readPrebuiltLibraries(dir, 'base');
        expect(libraries.map((l) => l.name)).toEqual(BASE_NAMES);
        expect(libraries[0]!.source).toBe(await readFile(join(dir, 'base.js'), 'utf8'));

        await expect(readPrebuiltLibraries(dir, 'sdxl')).rejects.toThrow(/no 'sdxl' variant.*Reinstall @modular-diffusers\/sandbox/);
        const stale = { ...manifest, packages: { ...manifest.packages, '@modular-diffusers/core': '0.0.1' } };
        await writeFile(join(dir, 'manifest.json'), JSON.stringify(stale));
        const error = await readPrebuiltLibraries(dir, 'base').catch((e) => e);
        expect(error).toBeInstanceOf(SandboxLibraryBuildError);
        expect(error.message).toMatch(/@modular-diffusers\/core 0\.0\.1 was bundled, .* is installed.*Reinstall @modular-diffusers\/sandbox/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('a missing bundle says how to get one', async () => {
      const error = await readPrebuiltLibraries(join(tmpdir(), 'no-such-sandbox-libraries'), 'base').catch((e) => e);
      expect(error).toBeInstanceOf(SandboxLibraryBuildError);
      expect(error.message).toMatch(/prebuilt sandbox libraries are missing.*npm run build -w @modular-diffusers\/sandbox/);
    });
  });
});
