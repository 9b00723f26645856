import { mergeComponentSpecs, mergeConfigSpecs } from '../components/merge-component-specs.js';
import type { ComponentSpec } from '../components/component-spec.js';
import { BlockDefinitionError } from '../errors.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import type { ModularPipeline } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { throwIfAborted } from '../util/abort.js';
import type { DictInit } from '../util/insertable-ordered-dict.js';
import type { BlockLike } from './blocks-dict.js';
import { combineOutputs, sequenceInputs } from './combine-params.js';
import { ModularPipelineBlocks, type BlockResult } from './modular-pipeline-blocks.js';

/** Fills a composite's `blocks` from its class's `static blockClasses` / `static blockNames`. */
export function populateFromStatics(block: ModularPipelineBlocks): void {
  const ctor = block.constructor as { blockClasses?: readonly BlockLike[]; blockNames?: readonly string[]; name: string };
  const classes = ctor.blockClasses ?? [];
  const names = ctor.blockNames ?? [];
  if (classes.length !== names.length) {
    throw new BlockDefinitionError(
      `${ctor.name}: static blockClasses has ${classes.length} entries but blockNames has ${names.length}; they must pair up.`,
    );
  }
  classes.forEach((cls, i) => block.blocks.set(names[i]!, cls));
}

/**
 * Blocks that run one after another. Build one from a preset
 * (`SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS)`) or subclass it
 * with `static blockClasses` and `static blockNames`. Its inputs, outputs,
 * components and configs are computed from the current `blocks`, so editing
 * `blocks` (insert, set, pop) updates them.
 */
export class SequentialPipelineBlocks extends ModularPipelineBlocks {
  static blockClasses: readonly BlockLike[] = [];
  static blockNames: readonly string[] = [];

  private customDescription: string | null = null;

  constructor() {
    super();
    populateFromStatics(this);
  }

  /** A sequential block whose class name is SequentialPipelineBlocks, from `{ name: class or instance }`. */
  static fromBlocksDict<T extends SequentialPipelineBlocks>(this: new () => T, blocks: DictInit<BlockLike>, description?: string): T {
    const instance = new this();
    instance.blocks.clear();
    const dict = blocks as DictInit<BlockLike>;
    for (const [name, block] of entriesOfBlocks(dict)) instance.blocks.set(name, block);
    if (description !== undefined) instance.customDescription = description;
    return instance;
  }

  override get description(): string {
    return this.customDescription ?? '';
  }

  override get modelName(): string | null {
    const own = (this.constructor as typeof ModularPipelineBlocks).modelName;
    if (own) return own;
    for (const block of this.blocks.values()) if (block.modelName) return block.modelName;
    return null;
  }

  override get isComposite(): boolean {
    return true;
  }

  override get showsTriggerBanner(): boolean {
    return true;
  }

  override get expectedComponents(): ComponentSpec[] {
    return mergeComponentSpecs(this.blocks.entries().map(([name, b]) => ({ block: `'${name}' (${b.className})`, specs: b.expectedComponents })));
  }

  override get expectedConfigs(): ConfigSpec[] {
    return mergeConfigSpecs(this.blocks.entries().map(([name, b]) => ({ block: name, specs: b.expectedConfigs })));
  }

  /** What the sequence needs from outside: sub-block inputs not produced by an earlier sub-block. */
  override get inputs(): InputParam[] {
    return sequenceInputs(this.blocks.values().map((b) => ({ inputs: b.allInputs, outputs: b.outputs, skippable: b.isSkippable })));
  }

  override get allInputs(): InputParam[] {
    return this.inputs;
  }

  override get intermediatesOutputs(): OutputParam[] {
    return combineOutputs(this.blocks.values().map((b) => b.outputs));
  }

  override get outputs(): OutputParam[] {
    return this.intermediatesOutputs;
  }

  override async call(components: ModularPipeline, state: PipelineState): Promise<BlockResult> {
    for (const [name, block] of this.blocks) {
      throwIfAborted(state.context.signal, `before block '${name}'`);
      [components, state] = await this.runSubBlock(name, block, components, state);
    }
    return [components, state];
  }

  override getExecutionBlocks(...inputNames: string[]): SequentialPipelineBlocks {
    const active = new Set(inputNames);
    const selected: Array<[string, ModularPipelineBlocks]> = [];
    for (const [name, block] of this.blocks) block.collectExecutionBlocks(name, active, selected);
    return flatSequence(selected);
  }

  override collectExecutionBlocks(name: string, active: Set<string>, out: Array<[string, ModularPipelineBlocks]>): void {
    for (const [subName, block] of this.blocks) block.collectExecutionBlocks(`${name}.${subName}`, active, out);
  }
}

// Outside the class body on purpose: a class that names itself inside its body
// gets renamed by bundlers (esbuild emits `class _SequentialPipelineBlocks`),
// and the printouts show class names.
function flatSequence(entries: Array<[string, ModularPipelineBlocks]>): SequentialPipelineBlocks {
  return SequentialPipelineBlocks.fromBlocksDict(entries);
}

function entriesOfBlocks(dict: DictInit<BlockLike>): Array<[string, BlockLike]> {
  if (dict instanceof Map) return [...dict];
  if (typeof (dict as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(dict as Iterable<readonly [string, BlockLike]>)].map(([k, v]) => [k, v]);
  }
  return Object.entries(dict as Record<string, BlockLike>);
}
