import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  buildModelIndex,
  flattenRequirements,
  getBlocksClass,
  getLogger,
  getLoadId,
  getPipelineClass,
  InvalidArgumentError,
  isBlock,
  isSaveableComponent,
  type ModularPipeline,
  type ModularPipelineBlocks,
  type SavePretrainedOptions,
  type SavePretrainedResult,
} from '@modular-diffusers/core';
import type { HubEnv } from '../config/hub-config.js';
import { buildModularConfig, MODULAR_CONFIG_FILE } from '../pretrained/modular-config.js';
import { MODULAR_MODEL_INDEX_FILE } from '../pretrained/hub-repo-resolver.js';
import { getRemoteCodeOrigin } from '../pretrained/remote-code-origin.js';
import { renderModelCard } from './model-card.js';
import { pushToHub } from './push-to-hub.js';
import { listFiles, writeFolderAtomic, type FolderFile, type FolderWriter } from './write-folder-atomic.js';

/** A bundle to save with the blocks (what `modular build` produced), when they did not come from one. */
export interface SaveBundle {
  /** Its path in the repo (default `block.js`). */
  file?: string;
  source: string | Uint8Array;
  /** The export of the bundle holding the blocks. */
  exportName: string;
}

export interface HubSaveOptions extends SavePretrainedOptions {
  /**
   * Python requirements (PEP 440) to record as `requirements` in `modular_config.json`, merged over
   * the blocks' own (`static requirements`) and those of the bundle the blocks came from.
   */
  requirements?: Record<string, string>;
  /** npm requirements (semver ranges) to record as `npm_requirements`, merged the same way. */
  npmRequirements?: Record<string, string>;
  bundle?: SaveBundle;
  /** Write `README.md` (default true). */
  modelCard?: boolean;
  env?: HubEnv;
  fetch?: typeof fetch;
}

/** `pipeline.savePretrained(dir, options)`: its index, its blocks' config and bundle, a model card; optionally pushed. */
export async function savePipeline(pipeline: ModularPipeline, dir: string, options: HubSaveOptions = {}): Promise<SavePretrainedResult> {
  const index = pipeline.toModelIndex();
  const writers = typeof dir === 'string' && dir !== '' ? pointComponentsAtSave(pipeline, index, dir, options) : [];
  return saveFiles(pipeline.blocks, pipeline, index, dir, options, writers);
}

/**
 * diffusers' save_pretrained: a loaded from-pretrained component of unknown origin (no load id,
 * or 'null'), or every one under `overwriteModularIndex`, is written into `<dir>/<name>` and its
 * index entry points there (`repoId` when pushing). One that cannot write itself (no
 * `savePretrained`) keeps its entry as it is, with a warning, as diffusers does.
 */
function pointComponentsAtSave(pipeline: ModularPipeline, index: Record<string, unknown>, dir: string, options: HubSaveOptions): FolderWriter[] {
  const writers: FolderWriter[] = [];
  const location = options.pushToHub && options.repoId ? options.repoId : resolve(dir);
  for (const name of pipeline.pretrainedComponentNames) {
    const component = pipeline.components[name];
    const entry = index[name];
    if (component == null || !Array.isArray(entry)) continue;
    const loadId = getLoadId(component);
    if (!options.overwriteModularIndex && loadId !== null && loadId !== 'null') continue;
    if (!isSaveableComponent(component)) {
      getLogger().warn(
        `savePretrained: '${name}' (${String((component as { constructor?: { name?: string } }).constructor?.name)}) cannot write its files (it has no savePretrained(dir)), ` +
          'so its modular_model_index.json entry keeps its source' + (loadId === null || loadId === 'null' ? ' (none: load it with ComponentSpec.load so its origin is known).' : '.'),
      );
      continue;
    }
    writers.push({ path: name, write: (into) => component.savePretrained(into) });
    entry[2] = { ...(entry[2] as Record<string, unknown>), pretrained_model_name_or_path: location, subfolder: name };
  }
  return writers;
}

/** `blocks.savePretrained(dir, options)`: the blocks' config and bundle, an index of their component specs, a model card. */
export async function saveBlocks(blocks: ModularPipelineBlocks, dir: string, options: HubSaveOptions = {}): Promise<SavePretrainedResult> {
  const pipelineClass = getPipelineClass(blocks.modelName);
  const index = buildModelIndex({
    className: pipelineClass?.name ?? 'ModularPipeline',
    blocksClassName: blocks.className,
    specs: blocks.expectedComponents,
    configs: Object.fromEntries(blocks.expectedConfigs.map((c) => [c.name, c.default ?? null])),
  });
  return saveFiles(blocks, blocks, index, dir, options);
}

async function saveFiles(
  blocks: ModularPipelineBlocks,
  owner: object,
  index: Record<string, unknown>,
  dir: string,
  options: HubSaveOptions,
  writers: readonly FolderWriter[] = [],
): Promise<SavePretrainedResult> {
  if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('savePretrained(dir): pass the folder to write to.');
  if (options.pushToHub && !options.repoId) throw new InvalidArgumentError('savePretrained(dir, { pushToHub: true }) needs { repoId: "org/name" }, the repo to push to.');

  const origin = getRemoteCodeOrigin(owner);
  const bundle = bundleToSave(options.bundle, origin);
  const className = blocks.className;
  if (!bundle && !getBlocksClass(className)) {
    getLogger().warn(
      `savePretrained: the blocks class '${className}' is not registered and no bundle is saved with it, so fromPretrained of this folder cannot rebuild the blocks. ` +
        'Register the class (registerBlocksClass) in the package that defines it, or save a bundle ({ bundle }) built with `modular build`.',
    );
  }
  const requirements = { ...flattenRequirements(blocks.requirements, 'python'), ...origin?.requirements, ...options.requirements };
  const npmRequirements = { ...flattenRequirements(blocks.npmRequirements, 'npm'), ...origin?.npmRequirements, ...options.npmRequirements };
  // diffusers' ModularPipeline.from_pretrained reads a modular_config.json as the blocks' code
  // (its auto_map) and fails without one, so a repo of installed blocks has none, as a diffusers
  // pipeline save has none; it is written for a bundle, or to carry requirements.
  const writeConfig = bundle !== null || Object.keys(requirements).length > 0 || Object.keys(npmRequirements).length > 0;
  const files: FolderFile[] = [{ path: MODULAR_MODEL_INDEX_FILE, content: `${JSON.stringify(index, null, 2)}\n` }];
  if (writeConfig) {
    const modularConfig = buildModularConfig({
      className,
      requirements,
      npmRequirements,
      bundle: bundle ? { file: bundle.file, sha256: bundle.sha256, exportName: bundle.exportName } : null,
    });
    files.push({ path: MODULAR_CONFIG_FILE, content: `${JSON.stringify(modularConfig, null, 2)}\n` });
  }
  if (bundle) files.push({ path: bundle.file, content: bundle.content });
  if (options.modelCard !== false) {
    const card = isBlock(blocks)
      ? renderModelCard(blocks, { repoId: options.repoId ?? null, hasCode: bundle !== null })
      : `# ${className}\n\n${String((owner as { doc?: unknown }).doc ?? '')}\n`;
    files.push({ path: 'README.md', content: card });
  }
  const target = resolve(dir);
  await writeFolderAtomic(target, files, writers);
  // A component's files are read back from the folder only when they are pushed.
  const componentFiles: FolderFile[] = [];
  for (const writer of writers) {
    for (const path of await listFiles(join(target, writer.path))) {
      const repoPath = `${writer.path}/${path}`;
      componentFiles.push({ path: repoPath, content: options.pushToHub ? await readFile(join(target, ...repoPath.split('/'))) : '' });
    }
  }
  const result: SavePretrainedResult = { dir: target, files: [...files, ...componentFiles].map((f) => f.path) };
  if (options.pushToHub) {
    const pushed = await pushToHub({
      repoId: options.repoId!,
      files: [...files, ...componentFiles],
      private: options.private,
      token: options.token,
      hubUrl: options.hubUrl,
      commitMessage: options.commitMessage,
      signal: options.signal as AbortSignal | undefined,
      env: options.env,
      fetch: options.fetch,
    });
    result.repoUrl = pushed.repoUrl;
    result.commit = pushed.commit;
  }
  return result;
}

interface BundleToSave {
  file: string;
  content: string | Uint8Array;
  sha256: string;
  exportName: string;
}

function bundleToSave(explicit: SaveBundle | undefined, origin: ReturnType<typeof getRemoteCodeOrigin>): BundleToSave | null {
  if (explicit) {
    const file = explicit.file ?? 'block.js';
    if (!file.endsWith('.js')) throw new InvalidArgumentError(`savePretrained({ bundle }): the bundle file "${file}" must end in .js.`);
    if (!explicit.exportName) throw new InvalidArgumentError('savePretrained({ bundle }): name the export that holds the blocks ({ exportName }).');
    return { file, content: explicit.source, sha256: createHash('sha256').update(explicit.source).digest('hex'), exportName: explicit.exportName };
  }
  if (!origin) return null;
  return { file: origin.bundleFile, content: origin.bundleSource, sha256: origin.bundleSha256, exportName: origin.exportName };
}

