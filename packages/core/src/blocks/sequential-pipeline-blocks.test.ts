import { describe, expect, it } from 'vitest';
import { ComponentSpec } from '../components/component-spec.js';
import { BlockDefinitionError, BlockExecutionError, ComponentConflictError, NotFoundError, PipelineAbortedError } from '../errors.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import { PipelineState } from '../state/pipeline-state.js';
import { InsertableOrderedDict } from '../util/insertable-ordered-dict.js';
import type { BlockLike } from './blocks-dict.js';
import { type BlockResult } from './modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from './sequential-pipeline-blocks.js';
import { AddStep, AutoZ, MulStep } from './test-blocks.test-helpers.js';

class AddThenMul extends SequentialPipelineBlocks {
  static override blockClasses = [AddStep, MulStep];
  static override blockNames = ['add', 'mul'];
}

const names = (b: SequentialPipelineBlocks) => b.inputs.map((p) => p.key);

describe('SequentialPipelineBlocks', () => {
  it('builds from static lists or a blocks dict of classes and instances', () => {
    const fromStatics = new AddThenMul();
    expect(fromStatics.blocks.keys()).toEqual(['add', 'mul']);
    expect(fromStatics.className).toBe('AddThenMul');
    const fromDict = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: new MulStep() }, 'y = x + 1, z = 2y');
    expect(fromDict.className).toBe('SequentialPipelineBlocks');
    expect(fromDict.baseClassName).toBe('ModularPipelineBlocks');
    expect(fromDict.description).toBe('y = x + 1, z = 2y');
    expect(fromDict.blocks.get('add')).toBeInstanceOf(AddStep);
    const preset = new InsertableOrderedDict<BlockLike>([['mul', MulStep]]);
    expect(SequentialPipelineBlocks.fromBlocksDict(preset).blocks.keys()).toEqual(['mul']);
    expect(fromDict.modelName).toBe('toy');
    class Broken extends SequentialPipelineBlocks {
      static override blockClasses = [AddStep];
      static override blockNames = ['a', 'b'];
    }
    expect(() => new Broken()).toThrow(BlockDefinitionError);
    expect(() => SequentialPipelineBlocks.fromBlocksDict({ bad: {} as never })).toThrow(/must be a block class or a block instance/);
  });

  it("edits sub-blocks with brackets, as the guide's dd_blocks.blocks['denoise'] = block: a class is instantiated, a non-block refused", () => {
    const seq = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: MulStep });
    expect(seq.blocks['add']).toBeInstanceOf(AddStep);
    seq.blocks['add'] = MulStep;
    expect(seq.blocks.get('add')).toBeInstanceOf(MulStep);
    const instance = new AddStep();
    seq.blocks['extra'] = instance;
    expect(seq.blocks.keys()).toEqual(['add', 'mul', 'extra']);
    expect(seq.blocks['extra']).toBe(instance);
    expect(seq.subBlocks.keys()).toEqual(['add', 'mul', 'extra']);
    expect(() => {
      seq.blocks['bad'] = {} as never;
    }).toThrow(/must be a block class or a block instance/);
    expect(seq.blocks.keys()).toEqual(['add', 'mul', 'extra']);
  });

  it('excludes inputs an earlier block outputs, keeps the first declaration and upgrades required', () => {
    class SetsFactor extends PipelineBlock {
      override get inputs() {
        return [new InputParam('offset', { default: 100 }), new InputParam('factor', { default: 5 })];
      }
    }
    class NeedsOffset extends PipelineBlock {
      override get inputs() {
        return [new InputParam('offset', { required: true })];
      }
    }
    const seq = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: MulStep, first: SetsFactor, needs: NeedsOffset });
    expect(names(seq)).toEqual(['x', 'offset', 'factor']); // y comes from add
    const offset = seq.inputs.find((p) => p.name === 'offset')!;
    expect(offset.default).toBe(1); // AddStep declared it first
    expect(offset.required).toBe(true); // NeedsOffset reads it and nothing produces it
    expect(seq.inputs.find((p) => p.name === 'factor')!.default).toBe(2);
    expect(seq.outputNames).toEqual(['y', 'z']);
  });

  it('does not count the outputs of a skippable auto block as produced', () => {
    class NeedsZ extends PipelineBlock {
      override get inputs() {
        return [new InputParam('z', { required: true })];
      }
    }
    const seq = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, auto: AutoZ, needs_z: NeedsZ });
    expect(names(seq)).toEqual(['x', 'offset', 'neg_flag', 'factor', 'z']); // AutoZ may be skipped
    seq.blocks.set('auto', MulStep); // a plain block always runs, so z is produced
    expect(names(seq)).toEqual(['x', 'offset', 'factor']);
    seq.blocks.pop('auto');
    seq.blocks.insert('auto', AutoZ, 0);
    expect(names(seq)).toEqual(['y', 'neg_flag', 'factor', 'x', 'offset', 'z']);
  });

  it('merges components in order and reports a conflicting declaration with both block names', () => {
    class OtherAdder extends PipelineBlock {
      override get expectedComponents() {
        return [new ComponentSpec('adder', 'Adder', { defaultCreationMethod: 'fromConfig' })];
      }
    }
    const seq = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: MulStep });
    expect(seq.expectedComponents.map((c) => c.name)).toEqual(['adder']);
    expect(seq.expectedConfigs.map((c) => c.name)).toEqual(['scale_output']);
    seq.blocks.set('other', OtherAdder);
    expect(() => seq.expectedComponents).toThrow(ComponentConflictError);
    expect(() => seq.expectedComponents).toThrow(/'add' \(AddStep\) creates it fromPretrained but 'other' \(OtherAdder\) creates it fromConfig/);
  });

  it('addresses nested sub-blocks by dotted path', () => {
    const outer = SequentialPipelineBlocks.fromBlocksDict({ inner: new AddThenMul(), auto: AutoZ });
    expect(outer.getBlock('inner.mul')).toBeInstanceOf(MulStep);
    expect(outer.getBlock('auto.neg').className).toBe('NegStep');
    expect(() => outer.getBlock('inner.nope')).toThrow(NotFoundError);
    expect(() => outer.getBlock('inner.nope')).toThrow(/Its blocks are: add, mul/);
  });

  it('runs sub-blocks in order, checks the abort signal between them, and wraps foreign errors', async () => {
    const seq = new AddThenMul();
    const state = new PipelineState({ values: { x: 3, offset: 1, factor: 10 } });
    await seq.call({} as PipelineComponents, state);
    expect(state.get(['y', 'z'])).toEqual({ y: 4, z: 40 });

    const controller = new AbortController();
    controller.abort('user');
    const aborted = new PipelineState({ values: { x: 1 }, context: { signal: controller.signal } });
    await expect(seq.call({} as PipelineComponents, aborted)).rejects.toThrow(PipelineAbortedError);

    class Throws extends PipelineBlock {
      override async call(): Promise<BlockResult> {
        throw new RangeError('boom');
      }
    }
    class ReturnsNothing extends PipelineBlock {
      override async call(): Promise<BlockResult> {
        return undefined as never;
      }
    }
    const failing = SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, explode: Throws });
    const error = (await failing.call({} as PipelineComponents, new PipelineState({ values: { x: 1 } })).catch((e) => e)) as BlockExecutionError;
    expect(error).toBeInstanceOf(BlockExecutionError);
    expect(error.message).toBe("Error in block 'explode' (Throws): boom");
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.blockPath).toEqual(['explode']);
    const silent = SequentialPipelineBlocks.fromBlocksDict({ nothing: ReturnsNothing });
    await expect(silent.call({} as PipelineComponents, new PipelineState())).rejects.toThrow(/must return \[components, state\]/);
  });

  it('resolves execution blocks by a dry run with dotted names, activating triggers from outputs', () => {
    class MakesNegFlag extends PipelineBlock {
      override get intermediatesOutputs() {
        return [new OutputParam('neg_flag')];
      }
    }
    const seq = SequentialPipelineBlocks.fromBlocksDict({ inner: new AddThenMul(), auto: AutoZ });
    expect(seq.getExecutionBlocks().blocks.keys()).toEqual(['inner.add', 'inner.mul']); // mul outputs z, not a trigger
    const withFactor = seq.getExecutionBlocks('factor');
    expect(withFactor.blocks.entries().map(([k, b]) => [k, b.className])).toEqual([
      ['inner.add', 'AddStep'],
      ['inner.mul', 'MulStep'],
      ['auto', 'MulStep'],
    ]);
    seq.blocks.insert('flag', MakesNegFlag, 0);
    expect(seq.getExecutionBlocks('factor').getBlock('auto').className).toBe('NegStep'); // neg_flag came from an output
  });
});
