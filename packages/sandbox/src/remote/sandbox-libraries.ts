/**
 * The host packages a sandboxed pipeline runs on, as sandbox libraries: the
 * engine (`@modular-diffusers/core`), tensors (`@modular-diffusers/runtime`'s
 * pure `./tensor` entry), schedulers and guiders (`@modular-diffusers/diffusion`),
 * the SDXL blocks and presets (`@modular-diffusers/sdxl/blocks`, when that package
 * is installed) and the remote driver, bundled into ONE classic script (one shared
 * copy of every module, so `instanceof` holds inside the sandbox), which hands the
 * package exports to small alias libraries, one `defineLibrary(name, exports)` each.
 *
 * The package's build bundles them (scripts/build-sandbox-libraries.ts) into
 * dist/sandbox-libraries/ with a manifest of the package versions they were made
 * from; here they are only read, so an application installs no bundler. Run from
 * source (`--conditions=source`: tests, the demo), they are bundled from the sources
 * on first use instead, by a dev module the build never reaches.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SandboxLibrary } from '../sandbox/create-sandbox.js';
import { SandboxLibraryBuildError } from './remote-errors.js';
import { REMOTE_PROTOCOL_VERSION } from './remote-protocol.js';
import {
  PREBUILT_FOLDER,
  PREBUILT_MANIFEST_FILE,
  PREBUILT_MANIFEST_VERSION,
  bundledPackages,
  librariesFromBundle,
  packageFacts,
  packageRoot,
  type PrebuiltManifest,
  type SandboxLibraryVariant,
} from './sandbox-library-set.js';

export interface SandboxLibrariesOptions {
  /**
   * From source only: folder for bundles cached across processes; false turns the disk cache off.
   * Default: `$MODULAR_SANDBOX_CACHE`, else `<HF_HOME>/modular-diffusers/sandbox-libraries`.
   */
  cacheDir?: string | false;
  /** Include the SDXL blocks library (default: when `@modular-diffusers/sdxl` with a `./blocks` entry is installed). */
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

const fromSource = import.meta.url.endsWith('.ts');
const REBUILD_HINT = 'Reinstall @modular-diffusers/sandbox so that it matches the installed packages (in this repository: npm run build -w @modular-diffusers/sandbox).';

const memory = new Map<string, Promise<SandboxLibrary[]>>();

/**
 * The sandbox libraries for remote pipelines, read once per process. Rejects with
 * SandboxLibraryBuildError when the prebuilt bundle is missing or was built from other package
 * versions than the installed ones (from source: naming the import that is not allowed).
 */
export function getSandboxLibraries(options: SandboxLibrariesOptions = {}): Promise<SandboxLibrary[]> {
  const sdxlFacts = packageFacts('@modular-diffusers/sdxl');
  const includeSdxl = options.sdxl ?? Boolean(sdxlFacts?.hasBlocksEntry);
  if (includeSdxl && !sdxlFacts?.hasBlocksEntry) {
    return Promise.reject(
      new SandboxLibraryBuildError("@modular-diffusers/sdxl has no './blocks' entry (its sandbox-safe blocks and presets); update the package"),
    );
  }
  const variant: SandboxLibraryVariant = includeSdxl ? 'sdxl' : 'base';
  const key = `${variant} ${fromSource ? `source ${String(options.cacheDir)}` : 'prebuilt'}`;
  let pending = memory.get(key);
  if (!pending) {
    pending = fromSource ? librariesFromSource(variant, options.cacheDir) : readPrebuiltLibraries(join(packageRoot, 'dist', PREBUILT_FOLDER), variant);
    memory.set(key, pending);
    pending.catch(() => memory.delete(key));
  }
  return pending;
}

/** Forgets the in-memory libraries (tests; a long-lived process after upgrading packages). */
export function clearSandboxLibraryCache(): void {
  memory.clear();
}

/**
 * Reads a prebuilt variant from `folder` (the package's dist/sandbox-libraries), after checking that
 * the manifest's package versions are the installed ones: a bundle of another core than the host's
 * would build blocks the host does not describe.
 */
export async function readPrebuiltLibraries(folder: string, variant: SandboxLibraryVariant): Promise<SandboxLibrary[]> {
  const manifestPath = join(folder, PREBUILT_MANIFEST_FILE);
  let manifest: PrebuiltManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as PrebuiltManifest;
  } catch {
    throw new SandboxLibraryBuildError(`the prebuilt sandbox libraries are missing (${manifestPath} cannot be read)`, REBUILD_HINT);
  }
  if (manifest?.manifestVersion !== PREBUILT_MANIFEST_VERSION || manifest.protocolVersion !== REMOTE_PROTOCOL_VERSION) {
    throw new SandboxLibraryBuildError(`${manifestPath} was written by another version of @modular-diffusers/sandbox`, REBUILD_HINT);
  }
  const entry = manifest.variants?.[variant];
  if (!entry) {
    throw new SandboxLibraryBuildError(
      `the prebuilt sandbox libraries have no '${variant}' variant (@modular-diffusers/sdxl was not there when they were built)`,
      REBUILD_HINT,
    );
  }
  const mismatches = bundledPackages(variant)
    .map((name) => ({ name, built: manifest.packages?.[name], installed: packageFacts(name)?.version }))
    .filter((p) => p.built !== p.installed)
    .map((p) => `${p.name} ${p.built ?? '(none)'} was bundled, ${p.installed ?? 'none'} is installed`);
  if (mismatches.length > 0) {
    throw new SandboxLibraryBuildError(`the prebuilt sandbox libraries do not match the installed packages (${mismatches.join('; ')})`, REBUILD_HINT);
  }
  const source = await readFile(resolve(folder, entry.file), 'utf8').catch(() => {
    throw new SandboxLibraryBuildError(`the prebuilt sandbox library ${join(folder, entry.file)} is missing`, REBUILD_HINT);
  });
  return librariesFromBundle(source, variant);
}

/** What the dev module (scripts/bundle-sandbox-libraries.ts) gives the source mode. */
interface SourceBundler {
  sandboxLibrariesFromSource(variant: SandboxLibraryVariant, cacheDir: string | false | undefined): Promise<SandboxLibrary[]>;
}

// A computed specifier on purpose: the bundler is a build-time module outside src/, so the compiled
// package neither contains nor reaches it (nor esbuild); only a run from the sources loads it.
const SOURCE_BUNDLER = '../../scripts/bundle-sandbox-libraries.ts';

async function librariesFromSource(variant: SandboxLibraryVariant, cacheDir: string | false | undefined): Promise<SandboxLibrary[]> {
  const bundler = (await import(new URL(SOURCE_BUNDLER, import.meta.url).href)) as SourceBundler;
  return bundler.sandboxLibrariesFromSource(variant, cacheDir);
}
