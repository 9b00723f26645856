/**
 * What the sandbox libraries are, shared by the code that builds them (scripts/, at build time or
 * from source) and the code that reads the prebuilt ones (at run time): the library names of each
 * variant, the alias libraries around the one bundled script, the manifest that says which package
 * versions a prebuilt bundle was made from, and where installed packages are found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxLibrary } from '../sandbox/create-sandbox.js';
import { REMOTE_DRIVER_LIBRARY } from './remote-protocol.js';

/** The two bundles: without and with the SDXL blocks (`@modular-diffusers/sdxl/blocks`). */
export type SandboxLibraryVariant = 'base' | 'sdxl';

/** The global the bundle hands its package exports to; each alias library reads it (libraries cannot see each other before the sandbox seals). */
export const HANDOFF_GLOBAL = '__modularHostLibraries';
/** The filename the bundled script reports in stack traces. */
export const ENTRY_FILE = 'modular-sandbox-libraries.js';
/** The folder of the prebuilt bundles, inside the package's dist. */
export const PREBUILT_FOLDER = 'sandbox-libraries';
export const PREBUILT_MANIFEST_FILE = 'manifest.json';
export const PREBUILT_MANIFEST_VERSION = 1;

/** The packages a variant bundles, whose installed versions must match the ones it was built from. */
export function bundledPackages(variant: SandboxLibraryVariant): string[] {
  const names = ['@modular-diffusers/core', '@modular-diffusers/runtime', '@modular-diffusers/diffusion'];
  if (variant === 'sdxl') names.push('@modular-diffusers/sdxl');
  return names;
}

/** `dist/sandbox-libraries/manifest.json`: what the build wrote and from which package versions. */
export interface PrebuiltManifest {
  manifestVersion: number;
  protocolVersion: number;
  /** Name → version of every package bundled into at least one variant. */
  packages: Record<string, string>;
  /** The variants built; `sdxl` is missing when `@modular-diffusers/sdxl` had no `./blocks` entry at build time. */
  variants: Partial<Record<SandboxLibraryVariant, { file: string }>>;
}

/** The sandbox package root, from src/remote or dist/remote alike. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function libraryNames(variant: SandboxLibraryVariant): string[] {
  const names: string[] = ['@modular-diffusers/core', '@modular-diffusers/runtime/tensor', '@modular-diffusers/runtime', '@modular-diffusers/diffusion'];
  if (variant === 'sdxl') names.push('@modular-diffusers/sdxl/blocks', '@modular-diffusers/sdxl');
  names.push(REMOTE_DRIVER_LIBRARY);
  return names;
}

/**
 * The bundled script as the first library (it defines `@modular-diffusers/core` and hands the other
 * package exports over), then one tiny alias library per other name; the last one removes the hand-off global.
 */
export function librariesFromBundle(source: string, variant: SandboxLibraryVariant): SandboxLibrary[] {
  const names = libraryNames(variant);
  const libraries: SandboxLibrary[] = [{ name: names[0]!, source, filename: ENTRY_FILE }];
  const handoff = `globalThis[${JSON.stringify(HANDOFF_GLOBAL)}]`;
  names.slice(1).forEach((name, i, rest) => {
    const last = i === rest.length - 1 ? `\ndelete ${handoff};` : '';
    libraries.push({ name, source: `defineLibrary(${JSON.stringify(name)}, ${handoff}[${JSON.stringify(name)}]);${last}`, filename: `library:${name}` });
  });
  return libraries;
}

export interface PackageFacts {
  name: string;
  version: string;
  hasBlocksEntry: boolean;
}

const facts = new Map<string, PackageFacts | null>();

/** Name, version and whether it has a `./blocks` export, read from the package.json node would resolve from this package. */
export function packageFacts(name: string): PackageFacts | null {
  if (facts.has(name)) return facts.get(name)!;
  let found: PackageFacts | null = null;
  const require = createRequire(join(packageRoot, 'package.json'));
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { version?: string; exports?: Record<string, unknown> };
      found = { name, version: json.version ?? '0.0.0', hasBlocksEntry: Boolean(json.exports && Object.hasOwn(json.exports, './blocks')) };
    } catch {
      found = null;
    }
    break;
  }
  facts.set(name, found);
  return found;
}
