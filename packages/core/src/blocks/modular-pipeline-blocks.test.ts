import { describe, expect, it } from 'vitest';
import { BlockDefinitionError, MissingInputError, MissingOutputError, UndeclaredOutputError, UndeclaredStateKeyError } from '../errors.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import { ModularPipeline } from '../pipeline/modular-pipeline.js';
import { PipelineState } from '../state/pipeline-state.js';
import { ModularPipelineBlocks } from './modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { AddStep, MulStep } from './test-blocks.test-helpers.js';

class KwargsStep extends PipelineBlock {
  override get inputs() {
    return [new InputParam({ kwargsType: 'guider_input_fields' }), new InputParam('prompt_embeds')];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('pooled', { kwargsType: 'guider_input_fields' })];
  }
}

describe('ModularPipelineBlocks (leaf)', () => {
  it('merges inputs with intermediate inputs and both output spellings', () => {
    const mul = new MulStep();
    expect(mul.allInputs.map((p) => p.name)).toEqual(['factor', 'y']);
    expect(mul.outputNames).toEqual(['z']);
    expect(mul.requiredInputs).toEqual(['y']);
    expect(new AddStep().componentNames).toEqual(['adder']);
    expect(new AddStep().modelName).toBe('toy');
    expect(new MulStep().modelName).toBeNull();
  });

  it('getBlockState resolves defaults and names the input and the block when a required one is missing', () => {
    const add = new AddStep();
    const bs = add.getBlockState(new PipelineState({ values: { x: 3, offset: null } }));
    expect(bs.asDict()).toEqual({ x: 3, offset: 1 });
    const error = (() => {
      try {
        add.getBlockState(new PipelineState());
      } catch (e) {
        return e;
      }
    })() as MissingInputError;
    expect(error).toBeInstanceOf(MissingInputError);
    expect(error.input).toBe('x');
    expect(error.block).toBe('AddStep');
    expect(error.message).toMatch(/^Required input 'x' is missing for block AddStep\. Pass it when you call the pipeline/);
  });

  it('collects kwargs-tagged values individually and as a dict, skipping null ones', () => {
    const state = new PipelineState();
    state.set('prompt_embeds', 5, 'guider_input_fields');
    state.set('add_time_ids', [1], 'guider_input_fields');
    state.set('negative', null, 'guider_input_fields');
    const bs = new KwargsStep().getBlockState(state);
    expect(bs.guider_input_fields).toEqual({ prompt_embeds: 5, add_time_ids: [1] });
    expect(bs.add_time_ids).toEqual([1]);
    expect(bs.has('negative')).toBe(false);
  });

  it('setBlockState writes outputs with their tags and replaced inputs, and insists on declared outputs', () => {
    const state = new PipelineState({ values: { x: 3 } });
    const add = new AddStep();
    const bs = add.getBlockState(state);
    expect(() => add.setBlockState(state, bs)).toThrow(MissingOutputError);
    bs.y = 4;
    bs.x = 30;
    add.addBlockState(state, bs);
    expect(state.get(['x', 'y', 'offset'])).toEqual({ x: 30, y: 4, offset: 1 });
    const kw = new KwargsStep();
    const kwState = new PipelineState();
    const kbs = kw.getBlockState(kwState);
    kbs.pooled = 9;
    kw.setBlockState(kwState, kbs);
    expect(kwState.getByKwargs('guider_input_fields')).toEqual({ pooled: 9 });
  });

  it('strict mode: undeclared reads and lost writes to pipeline values throw, temporaries are fine', () => {
    const add = new AddStep();
    const state = new PipelineState({ values: { x: 1, latents: [0] }, strict: true });
    const bs = add.getBlockState(state);
    expect(() => bs.latnets).toThrow(UndeclaredStateKeyError);
    bs.y = 2;
    bs.temporary = 'ok';
    add.setBlockState(state, bs);
    bs.latents = [1];
    expect(() => add.setBlockState(state, bs)).toThrow(UndeclaredOutputError);
    expect(() => add.setBlockState(state, bs)).toThrow(/Block AddStep changed 'latents'/);
  });

  it('a leaf without call() says so', async () => {
    await expect(new PipelineBlock().call({} as never, new PipelineState())).rejects.toThrow(BlockDefinitionError);
  });

  it('prints a leaf block and its doc', () => {
    expect(new AddStep().toString()).toBe(
      [
        'AddStep(',
        '  Class: PipelineBlock',
        '',
        '  Description: Adds offset to x',
        '',
        '  Components:',
        '      adder (`Adder`)',
        '',
        '  Configs:',
        '      scale_output (default: False)',
        '',
        '  Inputs:',
        '      Required(x), offset=1',
        '',
        '  Outputs:',
        '      y',
        ')',
      ].join('\n'),
    );
    expect(new AddStep().doc).toBe(
      [
        'class AddStep',
        '',
        '  Adds offset to x',
        '',
        '  Components:',
        '',
        '      adder (`Adder`)',
        '',
        '  Configs:',
        '',
        '      scale_output (default: False)',
        '',
        '  Inputs:',
        '',
        '      x (`int`):',
        '          The input',
        '',
        '      offset (`Any`, *optional*, defaults to 1):',
        '',
        '  Outputs:',
        '',
        '      y (`int`):',
        '          x + offset',
      ].join('\n'),
    );
  });

  it('clones into an independent tree and inits a callable pipeline from a copy', () => {
    const add = new AddStep();
    const copy = add.clone();
    expect(copy).not.toBe(add);
    expect(copy).toBeInstanceOf(AddStep);
    const pipe = add.initPipeline();
    expect(pipe).toBeInstanceOf(ModularPipeline);
    expect(typeof pipe).toBe('function');
    expect(pipe.blocks).not.toBe(add);
    expect(pipe.blocks).toBeInstanceOf(ModularPipelineBlocks);
  });
});
