/**
 * Bundles the sandbox libraries with esbuild: at build time (build-sandbox-libraries.ts writes them
 * into dist/) and, run from source, on first use (src/remote/sandbox-libraries.ts loads this module
 * by a computed path, so the compiled package never reaches it nor esbuild, a root devDependency).
 *
 * From source a bundle takes a few hundred milliseconds, so it is kept on disk, keyed by the
 * package versions and checked against the size and mtime of every input file.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import type { PluginBuild } from 'esbuild';
import { writeFileAtomic } from '@modular-diffusers/atomic-file';
import { resolveHubConfig } from '@modular-diffusers/hub';
import { SandboxLibraryBuildError } from '../src/remote/remote-errors.js';
import { REMOTE_DRIVER_LIBRARY, REMOTE_PROTOCOL_VERSION } from '../src/remote/remote-protocol.js';
import { ENTRY_FILE, HANDOFF_GLOBAL, librariesFromBundle, packageFacts, packageRoot, type SandboxLibraryVariant } from '../src/remote/sandbox-library-set.js';
import { checkSandboxSource } from '../src/sandbox/check-sandbox-source.js';
import type { SandboxLibrary } from '../src/sandbox/create-sandbox.js';
import { SANDBOX_BUNDLE_OPTIONS } from '../src/sandbox/sandbox-bundle-options.js';

export interface InputFile {
  path: string;
  size: number;
  mtimeMs: number;
}

interface DiskEntry {
  key: string;
  inputs: InputFile[];
  libraries: SandboxLibrary[];
}

const FORBIDDEN_PACKAGES =
  /^(onnxruntime-node|onnxruntime-common|onnxruntime-web|sharp|@img\/|@huggingface\/|@modular-diffusers\/hub|@modular-diffusers\/hub-server|@modular-diffusers\/sandbox)(\/|$)/;
const BUILTINS = new Set(builtinModules);

/** The libraries of `variant` bundled from the sources (`--conditions=source`), reused from disk when no input changed. */
export async function sandboxLibrariesFromSource(variant: SandboxLibraryVariant, cacheDirOption: string | false | undefined): Promise<SandboxLibrary[]> {
  const cacheDir = cacheDirOption === false ? null : (cacheDirOption ?? defaultCacheDir());
  const key = cacheKey(variant);
  const file = cacheDir ? join(cacheDir, `${key}.json`) : null;
  if (file) {
    const cached = await readDiskEntry(file, key);
    if (cached) return cached;
  }
  const { source, inputs } = await bundleSandboxLibraries(variant, { fromSource: true });
  const libraries = librariesFromBundle(source, variant);
  if (file) {
    const entry: DiskEntry = { key, inputs, libraries };
    // A cache that cannot be written only costs the next process a rebuild.
    await writeFileAtomic(file, JSON.stringify(entry)).catch(() => {});
  }
  return libraries;
}

/** The one classic script of `variant`: from the sources, or from the packages' dist (the build). */
export async function bundleSandboxLibraries(variant: SandboxLibraryVariant, options: { fromSource: boolean }): Promise<{ source: string; inputs: InputFile[] }> {
  return bundleSandboxEntry(entrySource(variant, options.fromSource), options);
}

async function readDiskEntry(file: string, key: string): Promise<SandboxLibrary[] | null> {
  let entry: DiskEntry;
  try {
    entry = JSON.parse(await readFile(file, 'utf8')) as DiskEntry;
  } catch {
    return null;
  }
  if (entry?.key !== key || !Array.isArray(entry.inputs) || !Array.isArray(entry.libraries)) return null;
  for (const input of entry.inputs) {
    try {
      const stat = statSync(input.path);
      if (stat.size !== input.size || stat.mtimeMs !== input.mtimeMs) return null;
    } catch {
      return null;
    }
  }
  return entry.libraries;
}

function defaultCacheDir(): string {
  const fromEnv = process.env.MODULAR_SANDBOX_CACHE;
  if (fromEnv) return fromEnv;
  return join(resolveHubConfig().hfHome, 'modular-diffusers', 'sandbox-libraries');
}

function cacheKey(variant: SandboxLibraryVariant): string {
  const hash = createHash('sha256');
  const names = ['@modular-diffusers/core', '@modular-diffusers/runtime', '@modular-diffusers/diffusion', '@modular-diffusers/sandbox', 'esbuild'];
  if (variant === 'sdxl') names.push('@modular-diffusers/sdxl');
  for (const name of names) hash.update(`${name}@${packageFacts(name)?.version ?? '?'}\n`);
  hash.update(`protocol ${REMOTE_PROTOCOL_VERSION} source true variant ${variant} root ${packageRoot}`);
  return hash.digest('hex').slice(0, 24);
}

function entrySource(variant: SandboxLibraryVariant, fromSource: boolean): string {
  const includeSdxl = variant === 'sdxl';
  const driver = fromSource
    ? join(packageRoot, 'src', 'remote', 'sandbox-side', 'remote-driver.ts')
    : join(packageRoot, 'dist', 'remote', 'sandbox-side', 'remote-driver.js');
  const lines = [
    `import * as core from '@modular-diffusers/core';`,
    `import * as tensor from '@modular-diffusers/runtime/tensor';`,
    `import * as diffusion from '@modular-diffusers/diffusion';`,
    includeSdxl ? `import * as sdxl from '@modular-diffusers/sdxl/blocks';` : '',
    `import { createRemoteDriverLibrary } from ${JSON.stringify(driver)};`,
    `const copy = (ns) => Object.freeze({ ...ns });`,
    `const libs = {};`,
    `libs['@modular-diffusers/core'] = copy(core);`,
    `libs['@modular-diffusers/runtime/tensor'] = copy(tensor);`,
    `libs['@modular-diffusers/runtime'] = libs['@modular-diffusers/runtime/tensor'];`,
    `libs['@modular-diffusers/diffusion'] = copy(diffusion);`,
    includeSdxl ? `libs['@modular-diffusers/sdxl/blocks'] = copy(sdxl);` : '',
    includeSdxl ? `libs['@modular-diffusers/sdxl'] = libs['@modular-diffusers/sdxl/blocks'];` : '',
    // The sandbox composes its families explicitly too: importing the blocks entry registers nothing.
    includeSdxl ? `core.registerFamily(sdxl.sdxlBlocksFamily);` : '',
    `libs[${JSON.stringify(REMOTE_DRIVER_LIBRARY)}] = createRemoteDriverLibrary();`,
    // Libraries cannot see each other before the sandbox seals, so the aliases read this hand-off global.
    `Object.defineProperty(globalThis, ${JSON.stringify(HANDOFF_GLOBAL)}, { value: libs, configurable: true });`,
    `defineLibrary('@modular-diffusers/core', libs['@modular-diffusers/core']);`,
  ];
  return lines.filter(Boolean).join('\n');
}

/**
 * Bundles an entry (JavaScript, resolved from the sandbox package) into one classic script for the
 * sandbox, with the import guard; returns the script and the files it was built from.
 */
export async function bundleSandboxEntry(contents: string, options: { fromSource: boolean } = { fromSource: true }): Promise<{ source: string; inputs: InputFile[] }> {
  const esbuild = await import('esbuild');
  let result;
  try {
    result = await esbuild.build({
      stdin: { contents, resolveDir: packageRoot, sourcefile: ENTRY_FILE, loader: 'js' },
      ...SANDBOX_BUNDLE_OPTIONS,
      mainFields: [...SANDBOX_BUNDLE_OPTIONS.mainFields],
      absWorkingDir: packageRoot,
      conditions: options.fromSource ? ['source'] : [],
      metafile: true,
      plugins: [sandboxImportGuard()],
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const detail = errors?.length
      ? errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('; ')
      : (error as Error).message;
    throw new SandboxLibraryBuildError(detail);
  }
  const source = result.outputFiles[0]!.text;
  try {
    checkSandboxSource(source, ENTRY_FILE);
  } catch (error) {
    throw new SandboxLibraryBuildError((error as Error).message);
  }
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.startsWith('<') && p !== ENTRY_FILE)
    .map((p) => {
      const path = resolve(packageRoot, p);
      const stat = statSync(path);
      return { path, size: stat.size, mtimeMs: stat.mtimeMs };
    });
  return { source, inputs };
}

/** Fails the build loudly when anything impure is reachable, and maps package roots to their sandbox-safe entries. */
function sandboxImportGuard() {
  return {
    name: 'modular-sandbox-guard',
    setup(build: PluginBuild) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        const path = args.path;
        const root = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!;
        const from = args.importer ? ` (imported by ${args.importer})` : '';
        if (path.startsWith('node:') || BUILTINS.has(root) || BUILTINS.has(path)) {
          return { errors: [{ text: `the Node built-in '${path}'${from} cannot run in the sandbox` }] };
        }
        if (FORBIDDEN_PACKAGES.test(path)) {
          return { errors: [{ text: `'${path}'${from} must stay on the host (models, images and tokenizers are reached through components)` }] };
        }
        // Blocks import the package roots; inside the sandbox those mean their pure entries.
        const alias = path === '@modular-diffusers/runtime' ? '@modular-diffusers/runtime/tensor' : path === '@modular-diffusers/sdxl' ? '@modular-diffusers/sdxl/blocks' : null;
        if (alias) {
          const resolved = await build.resolve(alias, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer });
          if (resolved.errors.length > 0) return { errors: resolved.errors };
          return { path: resolved.path };
        }
        return undefined;
      });
    },
  };
}
