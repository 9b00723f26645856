import { describe, expect, it } from 'vitest';
import { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import type { LoadComponentsOptions } from '../components/component-load-options.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import { ModularPipeline } from '../pipeline/modular-pipeline.js';
import { PIPELINE_FROM_PRETRAINED_OPTIONS } from '../pipeline/pipeline-options.js';
import { PipelineLoader } from '../pipeline/pipeline-loader.js';
import { PipelineState } from '../state/pipeline-state.js';
import { PipelineBlock } from './pipeline-block.js';

class OldSpellings extends PipelineBlock {
  override get inputs() {
    return [new InputParam('a')];
  }
  override get intermediatesInputs() {
    return [new InputParam('b')];
  }
  override get intermediateInputs() {
    return [new InputParam('c'), new InputParam('a', { default: 'shadowed' })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('x')];
  }
  override get intermediateOutputs() {
    return [new OutputParam('y')];
  }
}

describe('the old spellings (compat)', () => {
  it('merges the old declaration hooks into inputs and outputs, first declaration per name', () => {
    const block = new OldSpellings();
    expect(block.inputNames).toEqual(['a', 'b', 'c']);
    expect(block.allInputs.find((p) => p.name === 'a')?.default).toBeUndefined();
    expect(block.outputNames).toEqual(['x', 'y']);
    const plain = new ModularPipelineBlocks();
    expect([plain.intermediatesInputs, plain.intermediateInputs, plain.intermediateOutputs]).toEqual([[], [], []]);
  });

  it('keeps subBlocks and addBlockState as the current blocks and setBlockState', () => {
    const seq = SequentialPipelineBlocks.fromBlocksDict({ old: OldSpellings });
    expect(seq.subBlocks).toBe(seq.blocks);
    const block = new OldSpellings();
    const state = new PipelineState({ values: { a: 1 } });
    const blockState = block.getBlockState(state);
    blockState.x = 2;
    blockState.y = 3;
    block.addBlockState(state, blockState);
    expect(state.get(['x', 'y'])).toEqual({ x: 2, y: 3 });
  });

  it('installs the aliases as the class members they were: non-enumerable, overridable', () => {
    for (const name of ['intermediatesInputs', 'intermediateInputs', 'intermediateOutputs', 'subBlocks', 'addBlockState']) {
      expect(Object.getOwnPropertyDescriptor(ModularPipelineBlocks.prototype, name)).toMatchObject({ enumerable: false, configurable: true });
    }
    expect(Object.keys(new OldSpellings())).not.toContain('subBlocks');
    expect(new OldSpellings().className).toBe('OldSpellings');
    expect(Object.getPrototypeOf(PipelineBlock)).toBe(ModularPipelineBlocks);
  });

  it('forwards loadDefaultComponents and loader.load to loadComponents(null, options)', async () => {
    const calls: unknown[][] = [];
    const target = {
      loadComponents: async (names: null, options: LoadComponentsOptions) => {
        calls.push([names, options]);
        return { loaded: ['unet'] };
      },
    };
    const options: LoadComponentsOptions = { dtype: 'float16' };
    expect(await ModularPipeline.prototype.loadDefaultComponents.call(target as never, options)).toEqual({ loaded: ['unet'] });
    const loader = new PipelineLoader(target as never);
    expect(await loader.load(options)).toEqual({ loaded: ['unet'] });
    expect(await loader.load()).toEqual({ loaded: ['unet'] });
    expect(calls).toEqual([
      [null, options],
      [null, options],
      [null, {}],
    ]);
  });

  it("accepts the guide's componentManager option of fromPretrained", () => {
    expect(PIPELINE_FROM_PRETRAINED_OPTIONS.keys).toContain('componentManager');
    expect(() => PIPELINE_FROM_PRETRAINED_OPTIONS.check({ componentManager: null })).not.toThrow();
  });
});
