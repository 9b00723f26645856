/**
 * `modular build [dir]`: the plugin as a Hub repo, in `dist-hub/`:
 * - `<name>.js`, the bundle the sandbox runs;
 * - `modular_config.json`: class name, auto_map, the bundle's sha256, the plugin's version and the
 *   engine versions it needs;
 * - `modular_model_index.json`: which repo and subfolder each model comes from;
 * - `README.md`: a model card from the blocks' own descriptions, inputs and outputs;
 * - `mellon_pipeline_config.json` for the Mellon node UI;
 * - `.build-info.json` (not uploaded): a hash of the sources, so `publish` can tell a stale build.
 *
 * The blocks are described by loading the bundle in the same sandbox that will run it, so a
 * plugin that builds here also loads there.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildModularConfig, MODULAR_CONFIG_FILE, MODULAR_MODEL_INDEX_FILE, renderModelCard, writeFolderAtomic, type HubEnv } from '@modular-diffusers/hub';
import { loadRemoteBlocks, type RemoteBlocks } from '@modular-diffusers/sandbox';
import { CliError } from '../errors.js';
import { bundlePlugin } from '../plugin/bundle-plugin.js';
import { BUILD_INFO_FILE, DIST_HUB, type BuildInfo } from '../plugin/build-info.js';
import { buildMellonPipelineConfig, MELLON_PIPELINE_CONFIG_FILE } from '../plugin/mellon-pipeline-config.js';
import { buildPluginModelIndex } from '../plugin/plugin-model-index.js';
import { readPluginPackage, type PluginPackage } from '../plugin/plugin-package.js';
import { hashPluginSources } from '../plugin/source-hash.js';
import type { CliIo } from '../program.js';

export interface BuildPluginOptions {
  /** The export `auto_map` names (overrides package.json `modular.blocks`). */
  blocks?: string;
  /** The components repo (overrides `modular.componentsRepo`); false leaves every model path empty. */
  componentsRepo?: string | false;
  componentsRevision?: string;
  env?: HubEnv;
}

export interface BuiltPlugin {
  plugin: PluginPackage;
  outDir: string;
  files: string[];
  bundleFile: string;
  bundleSha256: string;
  exportName: string;
  className: string;
  sourced: string[];
  unsourced: string[];
}

/** `^0.1.0` for a bare `0.1.0`: a plugin built against an engine version needs that minor line. */
function requirementRange(range: string): string {
  return /^\d+\.\d+\.\d+$/.test(range) ? `^${range}` : range;
}

async function describeBlocks(source: string, filename: string, requested: string | undefined): Promise<{ blocks: RemoteBlocks; exportName: string }> {
  const load = (exportName: string) => loadRemoteBlocks({ source, filename, exportName, repo: null, commit: null });
  let blocks: RemoteBlocks;
  try {
    blocks = await load(requested ?? 'default');
  } catch (error) {
    const message = (error as Error).message;
    if (!requested && /exports no "default"/.test(message)) {
      throw new CliError(`src/plugin.ts has no default export. Export the blocks class as default, or name it in package.json: "modular": { "blocks": "MyBlocks" }. (${message})`);
    }
    throw new CliError(`The bundle did not load in the sandbox: ${message}`);
  }
  if (requested) return { blocks, exportName: requested };
  // auto_map needs a name: the default export must also be exported under its class name.
  const className = blocks.className;
  if (!blocks.remoteOrigin.described.exportNames.includes(className)) {
    await blocks.remoteOrigin.parked?.dispose();
    throw new CliError(`The default export is ${className}, but src/plugin.ts does not export it by that name; add \`export { ${className} }\` or set "modular.blocks" in package.json.`);
  }
  return { blocks, exportName: className };
}

export async function buildPlugin(dir: string, options: BuildPluginOptions = {}): Promise<BuiltPlugin> {
  const plugin = await readPluginPackage(dir);
  const sourcesSha256 = await hashPluginSources(plugin.dir);
  const bundleFile = `${plugin.shortName}.js`;
  const { source, hostLibraries } = await bundlePlugin(plugin.dir, bundleFile);
  const bundleSha256 = createHash('sha256').update(source).digest('hex');

  const { blocks, exportName } = await describeBlocks(source, `${DIST_HUB}/${bundleFile}`, options.blocks ?? plugin.modular.blocks);
  try {
    const requirements: Record<string, string> = {};
    for (const library of hostLibraries) {
      const pkg = library.split('/').slice(0, 2).join('/');
      const range = plugin.dependencies[pkg];
      if (!range) {
        throw new CliError(`The plugin imports ${library} but package.json does not list ${pkg} in "dependencies"; add it with the version it was built against.`);
      }
      requirements[pkg] = requirementRange(range);
    }
    const modularConfig = {
      ...buildModularConfig({ className: blocks.className, npmRequirements: requirements, bundle: { file: bundleFile, sha256: bundleSha256, exportName } }),
      plugin: { name: plugin.packageName, version: plugin.version },
    };
    const componentsRepo = options.componentsRepo === false ? null : (options.componentsRepo ?? plugin.modular.componentsRepo ?? null);
    const modelIndex = await buildPluginModelIndex({
      blocks,
      pipelineClassName: blocks.remoteOrigin.described.pipelineClassName,
      componentsRepo,
      componentsRevision: options.componentsRevision ?? plugin.modular.componentsRevision ?? null,
      env: options.env,
    });
    const card =
      renderModelCard(blocks, { repoId: plugin.modular.repo ?? null, hasCode: true }) +
      `\n## Plugin\n\n- Package: \`${plugin.packageName}\` ${plugin.version}\n- Bundle: \`${bundleFile}\` (sha256 \`${bundleSha256}\`)\n` +
      (Object.keys(requirements).length > 0 ? `- Needs: ${Object.entries(requirements).map(([k, v]) => `\`${k}@${v}\``).join(', ')}\n` : '');
    const mellon = buildMellonPipelineConfig(blocks, { defaultRepo: plugin.modular.repo ?? '' });
    const info: BuildInfo = {
      plugin: plugin.packageName,
      version: plugin.version,
      sourcesSha256,
      bundle: { file: bundleFile, sha256: bundleSha256, exportName },
      builtAt: new Date().toISOString(),
    };
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    const files = [
      { path: bundleFile, content: source },
      { path: MODULAR_CONFIG_FILE, content: json(sortKeys(modularConfig)) },
      { path: MODULAR_MODEL_INDEX_FILE, content: json(modelIndex.index) },
      { path: 'README.md', content: card },
      { path: MELLON_PIPELINE_CONFIG_FILE, content: json(mellon) },
      { path: BUILD_INFO_FILE, content: json(info) },
    ];
    const outDir = join(plugin.dir, DIST_HUB);
    // A fresh folder each time: files of an earlier build (a renamed bundle) must not be published.
    await rm(outDir, { recursive: true, force: true });
    await writeFolderAtomic(outDir, files);
    return {
      plugin,
      outDir,
      files: files.map((f) => f.path),
      bundleFile,
      bundleSha256,
      exportName,
      className: blocks.className,
      sourced: modelIndex.sourced,
      unsourced: modelIndex.unsourced,
    };
  } finally {
    await blocks.remoteOrigin.parked?.dispose();
  }
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}

export function registerBuildCommand(program: Command, io: CliIo): void {
  program
    .command('build')
    .description('Bundle a plugin for the Hub into dist-hub/: the sandbox bundle, modular_config.json, modular_model_index.json, a model card and the Mellon config.')
    .argument('[dir]', 'the plugin folder', '.')
    .option('--blocks <export>', 'the export auto_map names (default: package.json modular.blocks, else the default export)')
    .option('--components-repo <repo>', 'the repo its models come from (default: package.json modular.componentsRepo)')
    .option('--components-revision <revision>', 'a branch, tag or commit of the components repo')
    .option('--no-components', 'leave every model path empty (users load the models themselves)')
    .action(async (dir: string, options: { blocks?: string; componentsRepo?: string; componentsRevision?: string; components: boolean }) => {
      const built = await buildPlugin(resolve(io.cwd ?? process.cwd(), dir), {
        blocks: options.blocks,
        componentsRepo: options.components === false ? false : options.componentsRepo,
        componentsRevision: options.componentsRevision,
        env: io.env,
      });
      const shown = relative(io.cwd ?? process.cwd(), built.outDir) || '.';
      io.out(`Built ${built.plugin.packageName}@${built.plugin.version} into ${shown}/\n`);
      io.out(`  bundle      ${built.bundleFile} (sha256 ${built.bundleSha256.slice(0, 12)}...), auto_map -> ${built.exportName}\n`);
      io.out(`  blocks      ${built.className}\n`);
      if (built.sourced.length > 0) io.out(`  models      ${built.sourced.join(', ')}\n`);
      if (built.unsourced.length > 0) io.out(`  no source   ${built.unsourced.join(', ')} (users set these with updateComponents)\n`);
      io.out(`  files       ${built.files.filter((f) => f !== BUILD_INFO_FILE).join(', ')}\n`);
      io.out(`Next: modular publish${dir === '.' ? '' : ` ${dir}`} --repo <you>/${built.plugin.shortName}\n`);
    });
}
