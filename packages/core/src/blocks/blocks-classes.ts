import { InvalidArgumentError } from '../errors.js';
import type { ModularPipelineBlocks } from './modular-pipeline-blocks.js';

/** A blocks class that can be built with no arguments (what a saved `_blocks_class_name` names). */
export type BlocksConstructor = new () => ModularPipelineBlocks;

const byName = new Map<string, BlocksConstructor>();
const defaultByModelName = new Map<string, BlocksConstructor>();

/**
 * Makes a blocks class loadable by name, the way diffusers imports
 * `_blocks_class_name` from its own package: a saved pipeline whose index
 * names it gets these blocks back, with no remote code. `defaultFor` also
 * makes it the blocks of a model family (diffusers' `default_blocks_name`),
 * used for a standard `model_index.json` repo. A model family declares its
 * classes and `registerFamily` registers them (e.g. sdxl: `StableDiffusionXLAutoBlocks` for 'stable-diffusion-xl').
 */
export function registerBlocksClass(blocksClass: BlocksConstructor, options: { name?: string; defaultFor?: string } = {}): void {
  if (typeof blocksClass !== 'function') throw new InvalidArgumentError('registerBlocksClass(blocksClass): pass the class itself.');
  const name = options.name ?? blocksClass.name;
  if (!name) throw new InvalidArgumentError('registerBlocksClass: an anonymous class needs { name }.');
  byName.set(name, blocksClass);
  if (options.defaultFor) defaultByModelName.set(options.defaultFor, blocksClass);
}

/** The blocks class registered under `name`. */
export function getBlocksClass(name: string | null | undefined): BlocksConstructor | undefined {
  return name ? byName.get(name) : undefined;
}

/** The default blocks class of a model family, e.g. 'stable-diffusion-xl'. */
export function getDefaultBlocksClass(modelName: string | null | undefined): BlocksConstructor | undefined {
  return modelName ? defaultByModelName.get(modelName) : undefined;
}
