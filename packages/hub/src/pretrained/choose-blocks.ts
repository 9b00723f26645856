import { getBlocksClass, getDefaultBlocksClass, modelNameOfPipelineClass, type ModularPipelineBlocks } from '@modular-diffusers/core';
import { BlocksNotFoundError } from './pretrained-errors.js';
import type { RepoDescription } from './repo-description.js';

/** Base classes say nothing about which blocks a repo holds (diffusers #13193 falls back past them too). */
const BARE_BASE_CLASSES = new Set(['ModularPipelineBlocks', 'PipelineBlock', 'SequentialPipelineBlocks', 'LoopSequentialPipelineBlocks', 'AutoPipelineBlocks', 'ConditionalPipelineBlocks']);

/**
 * The blocks of a repo without remote code, from registered classes only:
 * `modular_config.json`'s `_class_name`, then the index's
 * `_blocks_class_name`, then the default blocks of the model family the
 * index's `_class_name` belongs to (a standard `model_index.json` repo).
 */
export function chooseBlocks(description: RepoDescription): ModularPipelineBlocks {
  const repo = description.listing.repo;
  const named = [description.modularConfig?.className, stringOf(description.modelIndex?._blocks_class_name)].filter(
    (n): n is string => typeof n === 'string' && n !== '',
  );
  for (const name of named) {
    if (BARE_BASE_CLASSES.has(name)) continue;
    const BlocksClass = getBlocksClass(name);
    if (BlocksClass) return new BlocksClass();
  }
  const pipelineClassName = stringOf(description.modelIndex?._class_name);
  const modelName = modelNameOfPipelineClass(pipelineClassName);
  const DefaultBlocks = getDefaultBlocksClass(modelName);
  if (DefaultBlocks) return new DefaultBlocks();

  const said: string[] = [];
  if (named.length > 0) said.push(`it names the blocks class ${named.map((n) => `'${n}'`).join(' / ')}, which is not registered (registerBlocksClass)`);
  if (pipelineClassName) said.push(modelName ? `its pipeline class '${pipelineClassName}' is model '${modelName}', which has no default blocks registered` : `its pipeline class '${pipelineClassName}' maps to no known model family`);
  if (said.length === 0) said.push('it has no modular_config.json, modular_model_index.json or model_index.json naming any');
  return failWith(repo, said.join('; '));
}

function failWith(repo: string, detail: string): never {
  throw new BlocksNotFoundError(repo, detail);
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
