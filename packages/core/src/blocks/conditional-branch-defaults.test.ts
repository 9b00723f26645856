// Restates diffusers' tests/modular_pipelines/test_conditional_pipeline_blocks.py (commit 58eb52c)
// classes TestConditionalBlocksInputs and TestConditionalBlocksBranchDefaults, with the same toy
// blocks, in TypeScript casing. Expected values are the ones those tests assert.
import { describe, expect, it } from 'vitest';
import { InputParam, type InputParamFields } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineComponents } from '../pipeline/modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';
import { combineInputs } from './combine-params.js';
import { AutoPipelineBlocks, ConditionalPipelineBlocks } from './conditional-pipeline-blocks.js';
import { type BlockResult } from './modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';

abstract class WorkflowBlock extends PipelineBlock {
  protected abstract readonly workflow: string;
  override get intermediatesOutputs() {
    return [new OutputParam('workflow')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState(state);
    bs.workflow = this.workflow;
    this.setBlockState(state, bs);
    return [components, state];
  }
}

class TextToImageBlock extends WorkflowBlock {
  static override modelName = 'text2img';
  protected readonly workflow = 'text2img';
  override get description() {
    return 'text-to-image workflow';
  }
  override get inputs() {
    return [new InputParam('prompt')];
  }
}

class ImageToImageBlock extends WorkflowBlock {
  static override modelName = 'img2img';
  protected readonly workflow = 'img2img';
  override get description() {
    return 'image-to-image workflow';
  }
  override get inputs() {
    return [new InputParam('prompt'), new InputParam('image'), new InputParam('strength', { typeHint: 'float', default: 0.3 })];
  }
}

class InpaintBlock extends WorkflowBlock {
  static override modelName = 'inpaint';
  protected readonly workflow = 'inpaint';
  override get description() {
    return 'inpaint workflow';
  }
  override get inputs() {
    return [
      new InputParam('prompt'),
      new InputParam('image'),
      new InputParam('mask'),
      new InputParam('strength', { typeHint: 'float', default: 0.9999 }),
    ];
  }
}

class AutoImageBlocks extends AutoPipelineBlocks {
  static override blockClasses = [InpaintBlock, ImageToImageBlock, TextToImageBlock];
  static override blockNames = ['inpaint', 'img2img', 'text2img'];
  static override blockTriggerInputs = ['mask', 'image', null];
  override get description() {
    return 'Auto image blocks for testing';
  }
}

class NestedImageBlocks extends ConditionalPipelineBlocks {
  static override blockClasses = [InpaintBlock, AutoImageBlocks];
  static override blockNames = ['refine', 'image'];
  static override blockTriggerInputs = ['mask'];
  static override defaultBlockName = 'image';
  override get description() {
    return 'Nested conditional blocks: refine when `mask` is provided, auto image blocks otherwise';
  }
  override selectBlock(triggers: Record<string, unknown>): string | null {
    return triggers.mask != null ? 'refine' : null;
  }
}

const x = (fields: Omit<InputParamFields, 'name'> = {}) => new InputParam('x', fields);
const flatDoc = (doc: string) => doc.split(/\s+/).filter(Boolean).join(' ');

describe('diffusers TestConditionalBlocksInputs (combine_inputs)', () => {
  it('test_combine_inputs_agreeing_defaults_stay_untouched', () => {
    const a = x({ default: 5 });
    const combined = combineInputs([['block-a', [a]], ['block-b', [x({ default: 5 })]]]);
    expect(combined).toHaveLength(1);
    expect(combined[0]).toBe(a);
    expect(combined[0]!.defaultsByBlock).toBeNull();
  });

  it('test_combine_inputs_first_occurrence_wins', () => {
    const combined = combineInputs([
      ['block-a', [x({ default: 5, description: 'from block-a' })]],
      ['block-b', [x({ default: 5, description: 'from block-b' })]],
    ]);
    expect(combined.map((p) => [p.description, p.default])).toEqual([['from block-a', 5]]);
  });

  it('test_combine_inputs_none_default_counts_as_disagreement', () => {
    const combined = combineInputs([['block-a', [x()]], ['block-b', [x({ default: 5 })]]]);
    expect(combined).toHaveLength(1);
    expect(combined[0]!.default).toBeUndefined();
    expect(combined[0]!.defaultsByBlock).toEqual({ 'block-a': undefined, 'block-b': 5 });
  });

  it('test_combine_inputs_disagreement_records_every_block', () => {
    const combined = combineInputs([
      ['block-a', [x({ default: 1 })]],
      ['block-b', [x({ default: 2 })]],
      ['block-c', [x({ default: 1 })]],
    ]);
    expect(combined[0]!.default).toBeUndefined();
    expect(combined[0]!.defaultsByBlock).toEqual({ 'block-a': 1, 'block-b': 2, 'block-c': 1 });
  });

  it('test_combine_inputs_nested_defaults_prefixed', () => {
    const combined = combineInputs([
      ['block-a', [x({ default: 3 })]],
      ['block-b', [x({ defaultsByBlock: { 'branch-a': 1, 'branch-b': 2 } })]],
    ]);
    expect(combined[0]!.defaultsByBlock).toEqual({ 'block-a': 3, 'block-b.branch-a': 1, 'block-b.branch-b': 2 });
  });

  it('compares list defaults by content, as Python == does', () => {
    const combined = combineInputs([['a', [x({ default: [1, 2] })]], ['b', [x({ default: [1, 2] })]]]);
    expect(combined[0]!.defaultsByBlock).toBeNull();
    expect(combined[0]!.default).toEqual([1, 2]);
  });
});

describe('diffusers TestConditionalBlocksBranchDefaults', () => {
  it('test_conflicting_defaults_merge_to_none', () => {
    const strength = new AutoImageBlocks().inputs.filter((p) => p.name === 'strength');
    expect(strength).toHaveLength(1);
    expect(strength[0]!.typeHint).toBe('float');
    expect(strength[0]!.default).toBeUndefined();
    expect(strength[0]!.defaultsByBlock).toEqual({ inpaint: 0.9999, img2img: 0.3 });
    expect(flatDoc(new AutoImageBlocks().doc)).toContain('strength (`float`, *optional*, defaults to 0.9999 or 0.3, depending on the workflow):');
  });

  it('test_branch_resolves_own_default', async () => {
    const pipe = new AutoImageBlocks().initPipeline();
    let state = await pipe.run({ prompt: 'p', image: 'i' });
    expect(state.get('workflow')).toBe('img2img');
    expect(state.get('strength')).toBe(0.3);
    state = await pipe.run({ prompt: 'p', image: 'i', mask: 'm' });
    expect(state.get('workflow')).toBe('inpaint');
    expect(state.get('strength')).toBe(0.9999);
  });

  it('test_explicit_value_overrides_branch_default', async () => {
    const state = await new AutoImageBlocks().initPipeline().run({ prompt: 'p', image: 'i', strength: 0.7 });
    expect(state.get('workflow')).toBe('img2img');
    expect(state.get('strength')).toBe(0.7);
  });

  it('test_standalone_branch_keeps_default', async () => {
    const state = await new ImageToImageBlock().initPipeline().run({ prompt: 'p', image: 'i' });
    expect(state.get('workflow')).toBe('img2img');
    expect(state.get('strength')).toBe(0.3);
  });

  it('test_nested_defaults_prefixed_with_sub_block_name', () => {
    const strength = new NestedImageBlocks().inputs.filter((p) => p.name === 'strength');
    expect(strength).toHaveLength(1);
    expect(strength[0]!.default).toBeUndefined();
    expect(strength[0]!.defaultsByBlock).toEqual({ refine: 0.9999, 'image.inpaint': 0.9999, 'image.img2img': 0.3 });
    // distinct values only: refine and image.inpaint share 0.9999, shown once
    expect(flatDoc(new NestedImageBlocks().doc)).toContain('strength (`float`, *optional*, defaults to 0.9999 or 0.3, depending on the workflow):');
  });
});
