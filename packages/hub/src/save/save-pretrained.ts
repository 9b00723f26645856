import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import {
  buildModelIndex,
  getBlocksClass,
  getLogger,
  getPipelineClass,
  InvalidArgumentError,
  isBlock,
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
import { writeFolderAtomic, type FolderFile } from './write-folder-atomic.js';

/** A bundle to save with the blocks (what `modular build` produced), when they did not come from one. */
export interface SaveBundle {
  /** Its path in the repo (default `block.js`). */
  file?: string;
  source: string | Uint8Array;
  /** The export of the bundle holding the blocks. */
  exportName: string;
}

export interface HubSaveOptions extends SavePretrainedOptions {
  /** Requirements to record in `modular_config.json` (merged over those of the bundle the blocks came from). */
  requirements?: Record<string, string>;
  bundle?: SaveBundle;
  /** Write `README.md` (default true). */
  modelCard?: boolean;
  env?: HubEnv;
  fetch?: typeof fetch;
}

/** `pipeline.savePretrained(dir, options)`: its index, its blocks' config and bundle, a model card; optionally pushed. */
export async function savePipeline(pipeline: ModularPipeline, dir: string, options: HubSaveOptions = {}): Promise<SavePretrainedResult> {
  const index = pipeline.toModelIndex();
  return saveFiles(pipeline.blocks, pipeline, index, dir, options);
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
  const modularConfig = buildModularConfig({
    className,
    requirements: { ...origin?.requirements, ...options.requirements },
    bundle: bundle ? { file: bundle.file, sha256: bundle.sha256, exportName: bundle.exportName } : null,
  });

  const files: FolderFile[] = [
    { path: MODULAR_MODEL_INDEX_FILE, content: `${JSON.stringify(index, null, 2)}\n` },
    { path: MODULAR_CONFIG_FILE, content: `${JSON.stringify(modularConfig, null, 2)}\n` },
  ];
  if (bundle) files.push({ path: bundle.file, content: bundle.content });
  if (options.modelCard !== false) {
    const card = isBlock(blocks)
      ? renderModelCard(blocks, { repoId: options.repoId ?? null, hasCode: bundle !== null })
      : `# ${className}\n\n${String((owner as { doc?: unknown }).doc ?? '')}\n`;
    files.push({ path: 'README.md', content: card });
  }
  const target = resolve(dir);
  await writeFolderAtomic(target, files);
  const result: SavePretrainedResult = { dir: target, files: files.map((f) => f.path) };
  if (options.pushToHub) {
    const pushed = await pushToHub({
      repoId: options.repoId!,
      files,
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
