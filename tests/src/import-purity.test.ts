/**
 * Importing a package registers nothing (issue 19: explicit composition). Each entry point is
 * imported in a FRESH process, with no test setup, and then every registry a package used to fill
 * on import is read back: all empty, no hook installed. The same reads after `installHub()`,
 * `installSandbox()` and `registerFamily(sdxl)` are checked too, so a read that could not see a
 * registration fails here. Last, what a package reaches: a user of `fromPretrained` installs neither
 * esbuild nor the HTTP server (issue 19, point 4).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './e2e-kit.js';

const ENTRIES = [
  '@modular-diffusers/core',
  '@modular-diffusers/runtime',
  '@modular-diffusers/runtime/tensor',
  '@modular-diffusers/diffusion',
  '@modular-diffusers/model-builder',
  '@modular-diffusers/model-builder/controlnet-unet-match',
  '@modular-diffusers/atomic-file',
  '@modular-diffusers/hub',
  '@modular-diffusers/hub-server',
  '@modular-diffusers/sandbox',
  '@modular-diffusers/sdxl',
  '@modular-diffusers/sdxl/blocks',
  '@modular-diffusers/sdxl/testing',
  '@modular-diffusers/cli',
  '@modular-diffusers/plugin-diffdiff',
  '@modular-diffusers/plugin-diffdiff/plugin',
  '@modular-diffusers/template-block-plugin',
];

const singleFileHook = pathToFileURL(join(REPO_ROOT, 'packages', 'sdxl', 'src', 'single-file', 'single-file-hook.ts')).href;

/** Imports `entry`, optionally composes, and prints what each registry holds. */
function probe(entry: string, compose: boolean): string {
  return `
await import(${JSON.stringify(entry)});
const core = await import('@modular-diffusers/core');
const hub = await import('@modular-diffusers/hub');
const sandbox = await import('@modular-diffusers/sandbox');
const { singleFileLoader } = await import(${JSON.stringify(singleFileHook)});
if (${compose}) {
  const { sdxl } = await import('@modular-diffusers/sdxl');
  hub.installHub();
  sandbox.installSandbox();
  core.registerFamily(sdxl);
}
const installed = (read) => { try { read(); return true; } catch { return false; } };
console.log(JSON.stringify({
  families: core.registeredFamilies().map((f) => f.name),
  loaders: core.defaultLoaderRegistry.list().length,
  pipelineClass: core.getPipelineClass('stable-diffusion-xl')?.name ?? null,
  pipelineClassName: core.modelNameOfPipelineClass('StableDiffusionXLPipeline') ?? null,
  defaultBlocks: core.getDefaultBlocksClass('stable-diffusion-xl')?.name ?? null,
  namedBlocks: core.getBlocksClass('StableDiffusionXLAutoBlocks')?.name ?? null,
  runMemoryEstimator: Boolean(core.getRunMemoryEstimator('stable-diffusion-xl')),
  repoResolver: core.getDefaultRepoResolver() !== null,
  pretrainedHooks: installed(() => core.getPretrainedHooks('probe')),
  remoteCodeLoader: hub.getRemoteCodeLoader() !== null,
  singleFileLoader: installed(() => singleFileLoader('probe')),
}));
`;
}

async function registries(entry: string, compose = false): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', probe(entry, compose)], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

const EMPTY = {
  families: [],
  loaders: 0,
  pipelineClass: null,
  pipelineClassName: null,
  defaultBlocks: null,
  namedBlocks: null,
  runMemoryEstimator: false,
  repoResolver: false,
  pretrainedHooks: false,
  remoteCodeLoader: false,
  singleFileLoader: false,
};

describe('importing a package registers nothing', () => {
  it.each(ENTRIES)('%s', async (entry) => {
    expect(await registries(entry)).toEqual(EMPTY);
  });

  it('installHub(), installSandbox() and registerFamily(sdxl) fill every registry the probe reads', async () => {
    const composed = await registries('@modular-diffusers/core', true);
    expect(composed).toMatchObject({
      families: ['sdxl'],
      pipelineClass: 'StableDiffusionXLModularPipeline',
      pipelineClassName: 'stable-diffusion-xl',
      defaultBlocks: 'StableDiffusionXLAutoBlocks',
      namedBlocks: 'StableDiffusionXLAutoBlocks',
      runMemoryEstimator: true,
      repoResolver: true,
      pretrainedHooks: true,
      remoteCodeLoader: true,
      singleFileLoader: true,
    });
    expect(composed.loaders).toBeGreaterThan(10);
  });
});

/** The bare specifiers the non-test sources under `dir` import at run time (static, and dynamic with a literal). */
function importedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js)$/.test(entry.name) || /\.(test|test-helpers)\.ts$/.test(entry.name)) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    // Type-only imports are erased by the compiler, so they install nothing.
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'/gm)) found.add(m[1]!);
    for (const m of text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)) found.add(m[1]!);
  }
  return found;
}

function workspacePackageJsons(): Array<{ folder: string; json: { name: string; dependencies?: Record<string, string> } }> {
  return ['packages', 'plugins', 'templates'].flatMap((group) =>
    readdirSync(join(REPO_ROOT, group), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => {
        try {
          return [{ folder: `${group}/${e.name}`, json: JSON.parse(readFileSync(join(REPO_ROOT, group, e.name, 'package.json'), 'utf8')) }];
        } catch {
          return [];
        }
      }),
  );
}

describe('a user of fromPretrained installs neither esbuild nor the HTTP server', () => {
  it('esbuild is a runtime dependency of the CLI only (it bundles plugins)', () => {
    const withEsbuild = workspacePackageJsons()
      .filter(({ json }) => Object.hasOwn(json.dependencies ?? {}, 'esbuild'))
      .map(({ json }) => json.name);
    expect(withEsbuild).toEqual(['@modular-diffusers/cli']);
  });

  it('the hub package depends on and imports neither the server, the sandbox nor esbuild', () => {
    const hub = workspacePackageJsons().find(({ json }) => json.name === '@modular-diffusers/hub')!;
    const forbidden = ['esbuild', 'ses', '@modular-diffusers/hub-server', '@modular-diffusers/sandbox'];
    expect(Object.keys(hub.json.dependencies ?? {}).filter((name) => forbidden.includes(name))).toEqual([]);
    expect([...importedPackages(join(REPO_ROOT, 'packages', 'hub', 'src'))].filter((name) => forbidden.some((f) => name === f || name.startsWith(`${f}/`)))).toEqual([]);
  });

  it("the sandbox package's sources reach neither esbuild nor the server (its bundler is a build-time script)", () => {
    const imported = [...importedPackages(join(REPO_ROOT, 'packages', 'sandbox', 'src'))];
    expect(imported.filter((name) => name === 'esbuild' || name.startsWith('@modular-diffusers/hub-server'))).toEqual([]);
  });
});
