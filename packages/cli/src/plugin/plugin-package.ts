/** A plugin package's package.json, with its `modular` field (what `modular build` and `publish` read). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliUsageError } from '../errors.js';

/**
 * The `modular` field of a plugin's package.json:
 * `{ "blocks": "MyBlocks", "componentsRepo": "org/sdxl-repo", "repo": "me/my-plugin" }`.
 */
export interface PluginModularField {
  /** The export `auto_map` names (default: the class of the default export). */
  blocks?: string;
  /** The repo the blocks' models come from, written into modular_model_index.json. */
  componentsRepo?: string;
  componentsRevision?: string;
  /** The Hub repo `modular publish` pushes to (default: --repo, else <your user>/<plugin name>). */
  repo?: string;
}

export interface PluginPackage {
  dir: string;
  /** `@modular-diffusers/plugin-diffdiff`. */
  packageName: string;
  /** `diffdiff`: the bundle's file stem and the default repo name. */
  shortName: string;
  version: string;
  dependencies: Record<string, string>;
  modular: PluginModularField;
  entry: string;
}

export const PLUGIN_ENTRY = 'src/plugin.ts';

export async function readPluginPackage(dirArg: string): Promise<PluginPackage> {
  const dir = resolve(dirArg);
  const file = join(dir, 'package.json');
  if (!existsSync(file)) {
    throw new CliUsageError(`${dir} has no package.json; run this in a plugin folder (made with modular create) or pass its path.`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CliUsageError(`${file} is not valid JSON (${(error as Error).message}); fix it and run again.`);
  }
  const packageName = typeof json.name === 'string' ? json.name : '';
  if (!packageName) throw new CliUsageError(`${file} has no "name"; a plugin package is named @modular-diffusers/plugin-<name>.`);
  const version = typeof json.version === 'string' ? json.version : '';
  if (!/^\d+\.\d+\.\d+/.test(version)) {
    throw new CliUsageError(`${file} has no valid "version" (got ${JSON.stringify(json.version)}); changesets keeps it, start at "0.1.0".`);
  }
  const entry = join(dir, PLUGIN_ENTRY);
  if (!existsSync(entry)) {
    throw new CliUsageError(`${dir} has no ${PLUGIN_ENTRY}, the bundle entry that exports the plugin's blocks; add it (see templates/block-plugin).`);
  }
  const modular = (json.modular ?? {}) as Record<string, unknown>;
  if (typeof modular !== 'object' || Array.isArray(modular)) throw new CliUsageError(`${file}: "modular" must be an object, e.g. { "blocks": "MyBlocks" }.`);
  for (const key of ['blocks', 'componentsRepo', 'componentsRevision', 'repo']) {
    if (modular[key] !== undefined && typeof modular[key] !== 'string') throw new CliUsageError(`${file}: "modular.${key}" must be a string.`);
  }
  const base = packageName.replace(/^@[^/]+\//, '');
  return {
    dir,
    packageName,
    shortName: base.replace(/^plugin-/, ''),
    version,
    dependencies: { ...((json.peerDependencies as Record<string, string>) ?? {}), ...((json.dependencies as Record<string, string>) ?? {}) },
    modular: modular as PluginModularField,
    entry,
  };
}
