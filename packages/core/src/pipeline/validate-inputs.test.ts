import { describe, expect, it } from 'vitest';
import { InputParam, InvalidArgumentError, OutputParam, PipelineBlock, SequentialPipelineBlocks, type PipelineComponents, type PipelineState } from '../index.js';

// The pre-run check: every block's validateInputs sees the caller's values before any block runs.
const calls: string[] = [];

class Expensive extends PipelineBlock {
  override get inputs() {
    return [new InputParam('x', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('y')];
  }
  override async call(components: PipelineComponents, state: PipelineState) {
    calls.push('expensive ran');
    const bs = this.getBlockState<{ x: number; y?: number }>(state);
    bs.y = bs.x * 2;
    this.setBlockState(state, bs);
    return [components, state] as const;
  }
}

class Checked extends PipelineBlock {
  override get inputs() {
    return [new InputParam('strength', { default: 0.5 }), new InputParam('y')];
  }
  override validateInputs(_components: PipelineComponents, state: PipelineState): void {
    calls.push(`checked y=${String(state.get('y'))}`);
    const strength = state.get('strength') as number;
    if (!(strength > 0 && strength <= 1)) throw new InvalidArgumentError(`strength must be in (0, 1], got ${strength}`);
  }
  override async call(components: PipelineComponents, state: PipelineState) {
    return [components, state] as const;
  }
}

describe('ModularPipelineBlocks.validateInputs', () => {
  const pipeline = () => SequentialPipelineBlocks.fromBlocksDict({ expensive: Expensive, checked: Checked }).initPipeline();

  it('rejects a bad input before any block runs, seeing only given values and defaults', async () => {
    calls.length = 0;
    await expect(pipeline()({ x: 1, strength: 2 })).rejects.toThrow(/strength must be in \(0, 1\], got 2/);
    expect(calls).toEqual(['checked y=undefined']);
  });

  it('lets a good run through', async () => {
    calls.length = 0;
    expect(await pipeline()({ x: 3, output: 'y' })).toBe(6);
    expect(calls).toEqual(['checked y=undefined', 'expensive ran']);
  });
});
