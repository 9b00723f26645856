// The build's last step (after tsc): bundles the sandbox libraries from the packages' dist into
// dist/sandbox-libraries/, one script per variant plus a manifest of the package versions they were
// made from, so that at run time they are only read (src/remote/sandbox-libraries.ts). The SDXL
// variant is built when @modular-diffusers/sdxl (a devDependency here) has its './blocks' entry.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REMOTE_PROTOCOL_VERSION } from '../src/remote/remote-protocol.js';
import {
  PREBUILT_FOLDER,
  PREBUILT_MANIFEST_FILE,
  PREBUILT_MANIFEST_VERSION,
  bundledPackages,
  packageFacts,
  packageRoot,
  type PrebuiltManifest,
  type SandboxLibraryVariant,
} from '../src/remote/sandbox-library-set.js';
import { bundleSandboxLibraries } from './bundle-sandbox-libraries.js';

/**
 * Writes the prebuilt libraries of `variants` into `folder` (replacing what was there) and returns the
 * manifest; from the packages' dist unless `fromSource` (the tests, which run before any build).
 */
export async function writePrebuiltLibraries(folder: string, variants: SandboxLibraryVariant[], options: { fromSource?: boolean } = {}): Promise<PrebuiltManifest> {
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const manifest: PrebuiltManifest = { manifestVersion: PREBUILT_MANIFEST_VERSION, protocolVersion: REMOTE_PROTOCOL_VERSION, packages: {}, variants: {} };
  for (const variant of variants) {
    const { source } = await bundleSandboxLibraries(variant, { fromSource: options.fromSource ?? false });
    const file = `${variant}.js`;
    await writeFile(join(folder, file), source);
    manifest.variants[variant] = { file };
    for (const name of bundledPackages(variant)) manifest.packages[name] = packageFacts(name)?.version ?? '0.0.0';
  }
  await writeFile(join(folder, PREBUILT_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

// Run as the build step (the tests import the writer only).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const variants: SandboxLibraryVariant[] = packageFacts('@modular-diffusers/sdxl')?.hasBlocksEntry ? ['base', 'sdxl'] : ['base'];
  const folder = join(packageRoot, 'dist', PREBUILT_FOLDER);
  const manifest = await writePrebuiltLibraries(folder, variants);
  console.log(`sandbox libraries: ${Object.keys(manifest.variants).join(', ')} -> ${folder}`);
}
