import { describe, expect, it } from 'vitest';
import { BlockDefinitionError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import { PipelineState } from '../state/pipeline-state.js';
import { AutoPipelineBlocks, ConditionalPipelineBlocks } from './conditional-pipeline-blocks.js';
import { AutoZ, MulStep, NegStep } from './test-blocks.test-helpers.js';

class AutoWithDefault extends AutoPipelineBlocks {
  static override blockClasses = [NegStep, MulStep];
  static override blockNames = ['neg', 'mul'];
  static override blockTriggerInputs = ['neg_flag', null];
}

describe('AutoPipelineBlocks', () => {
  it('selects the first branch whose trigger is present, in list order', () => {
    const auto = new AutoZ();
    expect(auto.selectBlock({ neg_flag: true, factor: 3 })).toBe('neg');
    expect(auto.selectBlock({ neg_flag: null, factor: 3 })).toBe('mul');
    expect(auto.selectBlock({})).toBeNull();
    expect(auto.isSkippable).toBe(true);
    expect(new AutoWithDefault().resolveBlockName({})).toBe('mul');
    expect(new AutoWithDefault().isSkippable).toBe(false);
  });

  it('runs the selected branch or skips, reading triggers from the state', async () => {
    const auto = new AutoZ();
    const neg = new PipelineState({ values: { y: 4, neg_flag: 1 } });
    await auto.call({} as PipelineComponents, neg);
    expect(neg.get('z')).toBe(-4);
    const logger = new MemoryLogger();
    const skipped = new PipelineState({ values: { y: 4 }, context: { logger } });
    await auto.call({} as PipelineComponents, skipped);
    expect(skipped.has('z')).toBe(false);
    expect(logger.of('info')[0]).toMatch(/Skipping AutoZ/);
  });

  it('marks an input required only when every branch requires it and a default exists', () => {
    expect(new AutoZ().inputs.map((p) => [p.key, p.required])).toEqual([
      ['y', false],
      ['neg_flag', false],
      ['factor', false],
    ]);
    expect(new AutoWithDefault().inputs.find((p) => p.name === 'y')!.required).toBe(true);
  });

  it('validates its declaration', () => {
    class Mismatch extends AutoPipelineBlocks {
      static override blockClasses = [NegStep];
      static override blockNames = ['neg'];
      static override blockTriggerInputs = ['a', 'b'];
    }
    class DefaultNotLast extends AutoPipelineBlocks {
      static override blockClasses = [NegStep, MulStep];
      static override blockNames = ['neg', 'mul'];
      static override blockTriggerInputs = [null, 'b'];
    }
    expect(() => new Mismatch()).toThrow(/must have the same length/);
    expect(() => new DefaultNotLast()).toThrow(BlockDefinitionError);
  });

  it('returns the execution block for given inputs, or null when skipped', () => {
    expect(new AutoZ().getExecutionBlocks('factor')?.className).toBe('MulStep');
    expect(new AutoZ().getExecutionBlocks()).toBeNull();
    expect(new AutoWithDefault().getExecutionBlocks()?.className).toBe('MulStep');
  });

  it('prints the trigger banner and bullet lines', () => {
    const text = new AutoWithDefault().toString();
    expect(text).toContain("  Trigger Inputs: {'neg_flag'}\n  Use `get_execution_blocks()` with input names to see selected blocks (e.g. `get_execution_blocks('neg_flag')`).");
    expect(text).toContain('    • neg [trigger: neg_flag] (NegStep)\n');
    expect(text).toContain('    • mul [default] (MulStep)\n');
    expect(text.split('\n')[1]).toBe('  Class: AutoPipelineBlocks');
  });
});

describe('ConditionalPipelineBlocks', () => {
  class Custom extends ConditionalPipelineBlocks {
    static override blockClasses = [NegStep, MulStep];
    static override blockNames = ['neg', 'mul'];
    static override blockTriggerInputs = ['neg_flag', 'factor'];
    static override defaultBlockName = 'mul';
    override selectBlock(triggers: Record<string, unknown>) {
      return triggers.neg_flag != null && triggers.factor == null ? 'neg' : null;
    }
  }

  it('uses a custom selectBlock with a named default', async () => {
    const block = new Custom();
    expect(block.resolveBlockName({ neg_flag: 1 })).toBe('neg');
    expect(block.resolveBlockName({ neg_flag: 1, factor: 2 })).toBe('mul');
    const state = new PipelineState({ values: { y: 2, factor: 3 } });
    await block.call({} as PipelineComponents, state);
    expect(state.get('z')).toBe(6);
    class BadDefault extends Custom {
      static override defaultBlockName = 'nope';
    }
    expect(() => new BadDefault()).toThrow(/defaultBlockName 'nope' is not one of its blocks/);
    class NoSelect extends ConditionalPipelineBlocks {
      static override blockClasses = [MulStep];
      static override blockNames = ['mul'];
    }
    expect(() => new NoSelect().selectBlock({})).toThrow(/must implement selectBlock/);
  });
});
