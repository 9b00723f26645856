import type { ComponentSpec } from '../components/component-spec.js';
import { mergeComponentSpecs, mergeConfigSpecs } from '../components/merge-component-specs.js';
import { BlockDefinitionError } from '../errors.js';
import type { ConfigSpec } from '../params/config-spec.js';
import type { InputParam } from '../params/input-param.js';
import type { OutputParam } from '../params/output-param.js';
import type { ModularPipeline } from '../pipeline/modular-pipeline.js';
import { blockStateContext, type BlockState } from '../state/block-state.js';
import { throwIfAborted } from '../util/abort.js';
import type { DictInit } from '../util/insertable-ordered-dict.js';
import { InsertableOrderedDict } from '../util/insertable-ordered-dict.js';
import type { BlockLike } from './blocks-dict.js';
import { combineOutputs, sequenceInputs, uniqueInputs } from './combine-params.js';
import { ModularPipelineBlocks } from './modular-pipeline-blocks.js';
import { populateFromStatics } from './sequential-pipeline-blocks.js';

/** Counts loop iterations for the run's progress callback, like diffusers' `progress_bar`. */
export interface LoopProgress {
  update(steps?: number): void;
}

/**
 * A loop whose body is a sequence of leaf blocks sharing ONE BlockState: the
 * denoise loop. Sub-blocks are called as `call(components, blockState, i, t)`
 * and return `[components, blockState]`. A subclass implements `call`: get
 * the block state, iterate calling `loopStep`, set the block state. Swapping
 * the body is a subclass with another `static blockClasses` list, as the
 * guide's `SDXLDiffDiffDenoiseLoop` does.
 */
export class LoopSequentialPipelineBlocks extends ModularPipelineBlocks {
  static blockClasses: readonly BlockLike[] = [];
  static blockNames: readonly string[] = [];

  constructor() {
    super();
    populateFromStatics(this);
    for (const [name, block] of this.blocks) {
      if (block.isComposite) {
        throw new BlockDefinitionError(
          `${this.className}: loop sub-block '${name}' (${block.className}) is a composite; loop bodies must be leaf blocks.`,
        );
      }
    }
  }

  static fromBlocksDict<T extends LoopSequentialPipelineBlocks>(this: new () => T, blocks: DictInit<BlockLike>): T {
    const instance = new this();
    instance.blocks.clear();
    for (const [name, block] of new InsertableOrderedDict<BlockLike>(blocks)) instance.blocks.set(name, block);
    return instance;
  }

  // ---- loop-level declarations: override these ------------------------------------------------

  get loopExpectedComponents(): ComponentSpec[] {
    return [];
  }

  get loopExpectedConfigs(): ConfigSpec[] {
    return [];
  }

  get loopInputs(): InputParam[] {
    return [];
  }

  get loopIntermediatesInputs(): InputParam[] {
    return [];
  }

  get loopIntermediatesOutputs(): OutputParam[] {
    return [];
  }

  // ---- computed from the body ---------------------------------------------------------------

  override get isComposite(): boolean {
    return true;
  }

  override get modelName(): string | null {
    const own = (this.constructor as typeof ModularPipelineBlocks).modelName;
    if (own) return own;
    for (const block of this.blocks.values()) if (block.modelName) return block.modelName;
    return null;
  }

  override get expectedComponents(): ComponentSpec[] {
    return mergeComponentSpecs([
      ...this.blocks.entries().map(([name, b]) => ({ block: `'${name}' (${b.className})`, specs: b.expectedComponents })),
      { block: `${this.className} (loop)`, specs: this.loopExpectedComponents },
    ]);
  }

  override get expectedConfigs(): ConfigSpec[] {
    return mergeConfigSpecs([
      ...this.blocks.entries().map(([name, b]) => ({ block: name, specs: b.expectedConfigs })),
      { block: 'loop', specs: this.loopExpectedConfigs },
    ]);
  }

  override get inputs(): InputParam[] {
    return sequenceInputs(
      this.blocks.values().map((b) => ({ inputs: b.allInputs, outputs: b.outputs, skippable: false })),
      uniqueInputs(this.loopInputs, this.loopIntermediatesInputs),
    );
  }

  override get allInputs(): InputParam[] {
    return this.inputs;
  }

  override get intermediatesOutputs(): OutputParam[] {
    return combineOutputs([...this.blocks.values().map((b) => b.outputs), this.loopIntermediatesOutputs]);
  }

  override get outputs(): OutputParam[] {
    return this.intermediatesOutputs;
  }

  // ---- running ------------------------------------------------------------------------------

  /**
   * One iteration: checks the run's AbortSignal, then calls every sub-block
   * with the shared block state and the loop arguments (`i`, `t`).
   */
  async loopStep(components: ModularPipeline, blockState: BlockState, ...args: unknown[]): Promise<[ModularPipeline, BlockState]> {
    throwIfAborted(blockStateContext(blockState)?.signal, `before step ${String(args[0])} of ${this.className}`);
    for (const [name, block] of this.blocks) {
      [components, blockState] = await this.runSubBlock(name, block, components, blockState, ...args);
    }
    return [components, blockState];
  }

  /** Reports iterations to the run's `onProgress` callback. */
  progressBar(blockState: BlockState, total: number | null = null): LoopProgress {
    const onProgress = blockStateContext(blockState)?.onProgress;
    let step = 0;
    return {
      update: (steps = 1) => {
        step += steps;
        onProgress?.({ block: this.className, step, total });
      },
    };
  }

  /** Loops are run as a whole: a dry run does not look inside. */
  override getExecutionBlocks(): ModularPipelineBlocks {
    return this;
  }
}
