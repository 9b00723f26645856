/**
 * The host packages a sandboxed pipeline runs on, as sandbox libraries: the
 * engine (`@modular-diffusers/core`), tensors (`@modular-diffusers/runtime`'s
 * pure `./tensor` entry), schedulers and guiders (`@modular-diffusers/diffusion`),
 * the SDXL blocks and presets (`@modular-diffusers/sdxl/blocks`, when that entry
 * exists) and the remote driver. esbuild bundles them at runtime into ONE
 * classic script (one shared copy of every module), which hands the package
 * exports to small alias libraries, one `defineLibrary(name, exports)` each.
 *
 * Bundling takes a few hundred milliseconds, so the result is kept in memory
 * per process and on disk, keyed by the package versions and checked against
 * the size and mtime of every input file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../cache/atomic-file.js';
import { resolveHubConfig } from '../config/hub-config.js';
import { checkSandboxSource } from '../sandbox/check-sandbox-source.js';
import type { SandboxLibrary } from '../sandbox/create-sandbox.js';
import { SANDBOX_BUNDLE_OPTIONS } from '../sandbox/sandbox-bundle-options.js';
import { SandboxLibraryBuildError } from './remote-errors.js';
import { REMOTE_DRIVER_LIBRARY, REMOTE_PROTOCOL_VERSION } from './remote-protocol.js';

export interface SandboxLibrariesOptions {
  /**
   * Folder for bundles cached across processes; false turns the disk cache off. Default:
   * `$MODULAR_SANDBOX_CACHE`, else `<HF_HOME>/modular-diffusers/sandbox-libraries`.
   */
  cacheDir?: string | false;
  /** Include the SDXL blocks library (default: when `@modular-diffusers/sdxl` has a `./blocks` entry). */
  sdxl?: boolean;
}

/** Library names plugins may import (the build maps these imports to `modularLibraries[name]`). */
export const SANDBOX_LIBRARY_NAMES = [
  '@modular-diffusers/core',
  '@modular-diffusers/runtime',
  '@modular-diffusers/runtime/tensor',
  '@modular-diffusers/diffusion',
  '@modular-diffusers/sdxl',
  '@modular-diffusers/sdxl/blocks',
] as const;

const HANDOFF_GLOBAL = '__modularHostLibraries';
const FORBIDDEN_PACKAGES = /^(onnxruntime-node|onnxruntime-common|onnxruntime-web|sharp|@img\/|@huggingface\/|@modular-diffusers\/hub)(\/|$)/;
const BUILTINS = new Set(builtinModules);

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
// The hub package root, from src/remote or dist/remote alike.
const hubRoot = resolve(here, '..', '..');

interface PackageFacts {
  name: string;
  version: string;
  hasBlocksEntry: boolean;
}

interface DiskEntry {
  key: string;
  inputs: Array<{ path: string; size: number; mtimeMs: number }>;
  libraries: SandboxLibrary[];
}

const memory = new Map<string, Promise<SandboxLibrary[]>>();

/**
 * The sandbox libraries for remote pipelines, built once per process (and reused from disk when the
 * sources did not change). Rejects with SandboxLibraryBuildError naming the import that is not allowed.
 */
export function getSandboxLibraries(options: SandboxLibrariesOptions = {}): Promise<SandboxLibrary[]> {
  const sdxlFacts = packageFacts('@modular-diffusers/sdxl');
  const includeSdxl = options.sdxl ?? Boolean(sdxlFacts?.hasBlocksEntry);
  if (includeSdxl && !sdxlFacts?.hasBlocksEntry) {
    return Promise.reject(
      new SandboxLibraryBuildError("@modular-diffusers/sdxl has no './blocks' entry (its sandbox-safe blocks and presets); update the package"),
    );
  }
  const key = cacheKey(includeSdxl);
  let pending = memory.get(key);
  if (!pending) {
    pending = loadOrBuild(key, includeSdxl, options.cacheDir);
    memory.set(key, pending);
    pending.catch(() => memory.delete(key));
  }
  return pending;
}

/** Forgets the in-memory bundles (tests; a long-lived process after upgrading packages). */
export function clearSandboxLibraryCache(): void {
  memory.clear();
}

async function loadOrBuild(key: string, includeSdxl: boolean, cacheDirOption: string | false | undefined): Promise<SandboxLibrary[]> {
  const cacheDir = cacheDirOption === false ? null : (cacheDirOption ?? defaultCacheDir());
  const file = cacheDir ? join(cacheDir, `${key}.json`) : null;
  if (file) {
    const cached = await readDiskEntry(file, key);
    if (cached) return cached;
  }
  const { libraries, inputs } = await bundle(includeSdxl);
  if (file) {
    const entry: DiskEntry = { key, inputs, libraries };
    // A cache that cannot be written only costs the next process a rebuild.
    await writeFileAtomic(file, JSON.stringify(entry)).catch(() => {});
  }
  return libraries;
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

function cacheKey(includeSdxl: boolean): string {
  const hash = createHash('sha256');
  const names = ['@modular-diffusers/core', '@modular-diffusers/runtime', '@modular-diffusers/diffusion', '@modular-diffusers/hub', 'esbuild'];
  if (includeSdxl) names.push('@modular-diffusers/sdxl');
  for (const name of names) hash.update(`${name}@${packageFacts(name)?.version ?? '?'}\n`);
  hash.update(`protocol ${REMOTE_PROTOCOL_VERSION} source ${fromSource} sdxl ${includeSdxl} root ${hubRoot}`);
  return hash.digest('hex').slice(0, 24);
}

const facts = new Map<string, PackageFacts | null>();

/** Name, version and whether it has a `./blocks` export, read from the package.json node would resolve. */
function packageFacts(name: string): PackageFacts | null {
  if (facts.has(name)) return facts.get(name)!;
  let found: PackageFacts | null = null;
  const require = createRequire(join(hubRoot, 'package.json'));
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string; exports?: Record<string, unknown> };
      found = { name, version: json.version ?? '0.0.0', hasBlocksEntry: Boolean(json.exports && Object.hasOwn(json.exports, './blocks')) };
    } catch {
      found = null;
    }
    break;
  }
  facts.set(name, found);
  return found;
}

function entrySource(includeSdxl: boolean): string {
  const driver = join(here, 'sandbox-side', `remote-driver${fromSource ? '.ts' : '.js'}`);
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

function libraryNames(includeSdxl: boolean): string[] {
  const names: string[] = ['@modular-diffusers/core', '@modular-diffusers/runtime/tensor', '@modular-diffusers/runtime', '@modular-diffusers/diffusion'];
  if (includeSdxl) names.push('@modular-diffusers/sdxl/blocks', '@modular-diffusers/sdxl');
  names.push(REMOTE_DRIVER_LIBRARY);
  return names;
}

async function bundle(includeSdxl: boolean): Promise<{ libraries: SandboxLibrary[]; inputs: DiskEntry['inputs'] }> {
  const { source, inputs } = await bundleSandboxEntry(entrySource(includeSdxl));
  const names = libraryNames(includeSdxl);
  const libraries: SandboxLibrary[] = [{ name: names[0]!, source, filename: ENTRY_FILE }];
  const handoff = `globalThis[${JSON.stringify(HANDOFF_GLOBAL)}]`;
  names.slice(1).forEach((name, i, rest) => {
    const last = i === rest.length - 1 ? `\ndelete ${handoff};` : '';
    libraries.push({ name, source: `defineLibrary(${JSON.stringify(name)}, ${handoff}[${JSON.stringify(name)}]);${last}`, filename: `library:${name}` });
  });
  return { libraries, inputs };
}

const ENTRY_FILE = 'modular-sandbox-libraries.js';

/**
 * Bundles an entry (JavaScript, resolved from the hub package) into one classic script for the sandbox,
 * with the import guard; returns the script and the files it was built from.
 */
export async function bundleSandboxEntry(contents: string): Promise<{ source: string; inputs: DiskEntry['inputs'] }> {
  const esbuild = await import('esbuild');
  let result;
  try {
    result = await esbuild.build({
      stdin: { contents, resolveDir: hubRoot, sourcefile: ENTRY_FILE, loader: 'js' },
      ...SANDBOX_BUNDLE_OPTIONS,
      mainFields: [...SANDBOX_BUNDLE_OPTIONS.mainFields],
      absWorkingDir: hubRoot,
      conditions: fromSource ? ['source'] : [],
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
      const path = resolve(hubRoot, p);
      const stat = statSync(path);
      return { path, size: stat.size, mtimeMs: stat.mtimeMs };
    });
  return { source, inputs };
}

/** Fails the build loudly when anything impure is reachable, and maps package roots to their sandbox-safe entries. */
function sandboxImportGuard() {
  return {
    name: 'modular-sandbox-guard',
    setup(build: import('esbuild').PluginBuild) {
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
