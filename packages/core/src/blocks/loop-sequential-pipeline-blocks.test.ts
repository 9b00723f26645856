import { describe, expect, it } from 'vitest';
import { BlockDefinitionError, PipelineAbortedError } from '../errors.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { ProgressEvent } from '../state/run-context.js';
import { PipelineState } from '../state/pipeline-state.js';
import { LoopSequentialPipelineBlocks } from './loop-sequential-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from './sequential-pipeline-blocks.js';
import { AccumulateLoop, AccumulateStep, AddStep, ApplyStep } from './test-blocks.test-helpers.js';

describe('LoopSequentialPipelineBlocks', () => {
  it('computes its inputs from the body plus the loop inputs, and its outputs', () => {
    const loop = new AccumulateLoop();
    expect(loop.inputs.map((p) => [p.key, p.required])).toEqual([
      ['acc', true],
      ['ts', true],
    ]);
    expect(loop.outputNames).toEqual(['acc']);
    expect(loop.baseClassName).toBe('LoopSequentialPipelineBlocks');
  });

  it('shares one block state across the body and iterates with progress', async () => {
    // acc = 1 + 10*1 + 20*2 + 30*3 = 141
    const events: ProgressEvent[] = [];
    const state = new PipelineState({ values: { acc: 1, ts: [10, 20, 30] }, context: { onProgress: (e) => events.push(e) } });
    await new AccumulateLoop().call({} as PipelineComponents, state);
    expect(state.get('acc')).toBe(141);
    expect(events).toEqual([
      { block: 'AccumulateLoop', step: 1, total: 3 },
      { block: 'AccumulateLoop', step: 2, total: 3 },
      { block: 'AccumulateLoop', step: 3, total: 3 },
    ]);
    expect(state.has('delta')).toBe(false); // loop temporaries stay in the block state
  });

  it('stops between iterations when the run is aborted', async () => {
    const controller = new AbortController();
    const events: number[] = [];
    const state = new PipelineState({
      values: { acc: 0, ts: [1, 2, 3, 4] },
      context: {
        signal: controller.signal,
        onProgress: (e) => {
          events.push(e.step);
          if (e.step === 2) controller.abort();
        },
      },
    });
    const error = await new AccumulateLoop().call({} as PipelineComponents, state).catch((e) => e);
    expect(error).toBeInstanceOf(PipelineAbortedError);
    expect(error.message).toBe('Pipeline run aborted before step 2 of AccumulateLoop.');
    expect(events).toEqual([1, 2]);
    expect(state.get('acc')).toBe(0); // setBlockState never ran
  });

  it('swaps its body by subclassing with another static blockClasses list', async () => {
    class DoubleApply extends PipelineBlock {
      override async call(components: PipelineComponents, bs: Record<string, any>) {
        bs.acc = bs.acc + 2 * bs.delta;
        return [components, bs] as never;
      }
    }
    class DoubledLoop extends AccumulateLoop {
      static override blockClasses = [AccumulateStep, ApplyStep, DoubleApply];
      static override blockNames = ['accumulate', 'apply', 'apply_twice'];
    }
    const state = new PipelineState({ values: { acc: 0, ts: [1] } });
    await new DoubledLoop().call({} as PipelineComponents, state);
    expect(state.get('acc')).toBe(3);
    expect(new DoubledLoop().baseClassName).toBe('AccumulateLoop');
    expect(new DoubledLoop().description).toBe('Accumulates over ts');
  });

  it('rejects composite sub-blocks and builds from a dict', () => {
    class BadLoop extends LoopSequentialPipelineBlocks {
      static override blockClasses = [SequentialPipelineBlocks];
      static override blockNames = ['seq'];
    }
    expect(() => new BadLoop()).toThrow(BlockDefinitionError);
    const loop = AccumulateLoop.fromBlocksDict({ only: AddStep });
    expect(loop.blocks.keys()).toEqual(['only']);
    expect(loop).toBeInstanceOf(AccumulateLoop);
  });
});
