import { PipelineBlock } from '../compat/pipeline-block.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { InsertableOrderedDict } from '../util/insertable-ordered-dict.js';
import type { BlockLike } from './blocks-dict.js';
import { AutoPipelineBlocks } from './conditional-pipeline-blocks.js';
import { type BlockResult } from './modular-pipeline-blocks.js';
import { AccumulateLoop, AddStep, AutoZ, MulStep } from './test-blocks.test-helpers.js';

// The generic blocks of test-blocks.test-helpers.ts composed the way a family's presets are:
// a preset dict to copy and edit, a loop, a skippable auto step to insert at 0 and an auto step
// whose branch is picked by an earlier block's output. The numbers are small enough to follow by hand.

/** ts = [1, ..., num_steps] and the loop's accumulator starts at z. */
export class PrepareLoopStep extends PipelineBlock {
  override get description() {
    return 'Prepares the loop:\n  1. ts counts from 1 to num_steps\n  2. acc starts at z';
  }
  override get inputs() {
    return [new InputParam('num_steps', { default: 2 }), new InputParam('z', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('ts'), new OutputParam('acc')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ num_steps: number; z: number; ts?: number[]; acc?: number }>(state);
    bs.ts = Array.from({ length: bs.num_steps }, (_, i) => i + 1);
    bs.acc = bs.z;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The loop a preset names: AccumulateLoop's body, with a description of its own (acc += t * (i + 1)). */
export class CountingLoop extends AccumulateLoop {
  override get description() {
    return 'Counting loop that adds t * (i + 1) to acc for each t in ts';
  }
}

/** offset = boost * 10. */
export class BoostStep extends PipelineBlock {
  override get description() {
    return 'Turns boost into an offset';
  }
  override get inputs() {
    return [new InputParam('boost', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('offset')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ boost: number; offset?: number }>(state);
    bs.offset = bs.boost * 10;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** Runs BoostStep when boost is given, else nothing: skippable, so offset stays a user input. */
export class AutoBoostStep extends AutoPipelineBlocks {
  static override blockClasses = [BoostStep];
  static override blockNames = ['boost'];
  static override blockTriggerInputs = ['boost'];
  override get description() {
    return 'Run the boost step if `boost` is provided.';
  }
}

/** AutoZ with y, which AddStep outputs, as the trigger of its mul branch: neg_flag picks NegStep, else y picks MulStep. */
export class AutoZFromY extends AutoZ {
  static override blockTriggerInputs = ['neg_flag', 'y'];
}

/** The preset: add (y = x + offset), mul (z = y * factor), prepare_loop, loop. Copy before editing. */
export const COUNT_BLOCKS = new InsertableOrderedDict<BlockLike>([
  ['add', AddStep],
  ['mul', MulStep],
  ['prepare_loop', PrepareLoopStep],
  ['loop', CountingLoop],
]);
