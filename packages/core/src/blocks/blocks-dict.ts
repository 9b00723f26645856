import { BlockDefinitionError } from '../errors.js';
import { InsertableOrderedDict, type DictInit } from '../util/insertable-ordered-dict.js';
import { isBlock } from './block-brand.js';
import type { ModularPipelineBlocks } from './modular-pipeline-blocks.js';

/** A block class with a no-argument constructor, as listed in presets and `static blockClasses`. */
export type BlockClass<T extends ModularPipelineBlocks = ModularPipelineBlocks> = new () => T;

/** What presets and composites accept: a block class (instantiated on use) or a block instance. */
export type BlockLike = ModularPipelineBlocks | BlockClass;

export function instantiateBlock(value: BlockLike, name = '(unnamed)'): ModularPipelineBlocks {
  if (typeof value === 'function') {
    const instance = new value();
    if (!isBlock(instance)) throw new BlockDefinitionError(`'${name}': ${value.name} is not a ModularPipelineBlocks subclass.`);
    return instance;
  }
  if (!isBlock(value)) {
    throw new BlockDefinitionError(`'${name}' must be a block class or a block instance (a ModularPipelineBlocks), got ${String(value)}.`);
  }
  return value;
}

/**
 * The sub-blocks of a composite: an InsertableOrderedDict of block instances
 * whose `insert` and `set` also take a block class and instantiate it, so
 * `blocks.insert('ip_adapter', StableDiffusionXLAutoIPAdapterStep, 0)` and
 * `blocks.set('denoise', controlnetDenoiseBlock)` both work.
 */
export class BlocksDict extends InsertableOrderedDict<ModularPipelineBlocks, BlockLike> {
  constructor(init?: DictInit<BlockLike>) {
    // The base constructor adds each entry through `set`, which (on this subclass) instantiates classes.
    super(init);
  }

  override set(key: string, value: BlockLike): this {
    return super.set(key, instantiateBlock(value, key));
  }

  override insert(key: string, value: BlockLike, index: number): this {
    return super.insert(key, instantiateBlock(value, key), index);
  }

  override copy(): BlocksDict {
    return new BlocksDict(this.entries());
  }

  /** A copy whose blocks are cloned too, so edits to one tree never reach the other. */
  deepCopy(): BlocksDict {
    return new BlocksDict(this.entries().map(([k, b]) => [k, b.clone()] as [string, ModularPipelineBlocks]));
  }
}
