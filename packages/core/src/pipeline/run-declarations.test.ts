import { describe, expect, it } from 'vitest';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import { PipelineState } from '../state/pipeline-state.js';
import type { PipelineComponents } from './modular-pipeline.js';

/** Counts how often its declarations are built. */
class Counted extends PipelineBlock {
  reads = 0;
  /** Getter reads made by getBlockState + setBlockState in the last call. */
  readsInCall = -1;
  constructor(
    private readonly from: string,
    private readonly to: string,
  ) {
    super();
  }
  override get inputs() {
    this.reads += 1;
    return [new InputParam(this.from, { required: true })];
  }
  override get intermediatesOutputs() {
    this.reads += 1;
    return [new OutputParam(this.to)];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const before = this.reads;
    const bs = this.getBlockState(state);
    bs[this.to] = (bs[this.from] as number) + 1;
    this.setBlockState(state, bs);
    this.readsInCall = this.reads - before;
    return [components, state];
  }
}

describe('block declarations during a run', () => {
  it('are built once per block call in a run, and again in the next run', async () => {
    const pipe = SequentialPipelineBlocks.fromBlocksDict({ first: new Counted('x', 'y'), second: new Counted('y', 'z') }).initPipeline();
    // The pipeline holds its own copy of the blocks.
    const [first, second] = [pipe.blocks.getBlock('first'), pipe.blocks.getBlock('second')] as Counted[];
    expect(await pipe({ x: 1, output: 'z' })).toBe(3);
    // getBlockState builds allInputs and outputs (one read of each getter), setBlockState reuses them.
    expect([first.readsInCall, second.readsInCall]).toEqual([2, 2]);
    first.readsInCall = second.readsInCall = -1;
    expect(await pipe({ x: 5, output: 'z' })).toBe(7);
    expect([first.readsInCall, second.readsInCall]).toEqual([2, 2]);
  });

  it('follow a block changed between runs', async () => {
    const pipe = SequentialPipelineBlocks.fromBlocksDict({ first: new Counted('x', 'y') }).initPipeline();
    expect(await pipe({ x: 1, output: 'y' })).toBe(2);
    pipe.blocks.blocks.set('second', new Counted('y', 'w'));
    expect(await pipe({ x: 1, output: 'w' })).toBe(3);
  });

  it('are rebuilt on every read outside a pipeline run (a hand-made state)', () => {
    const block = new Counted('x', 'y');
    const state = new PipelineState({ values: { x: 1 } });
    const bs = block.getBlockState(state);
    bs.y = 2;
    block.setBlockState(state, bs);
    expect(block.reads).toBe(4); // built by getBlockState, and again by setBlockState
  });
});
