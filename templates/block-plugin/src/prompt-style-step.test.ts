import { PipelineState, SequentialPipelineBlocks, type PipelineComponents } from '@modular-diffusers/core';
import { TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { describe, expect, it } from 'vitest';
import { BLOCK_PLUGIN_BLOCKS, BlockPluginBlocks, BlockPluginPromptStyleStep, DEFAULT_STYLE, styledPrompt } from './index.js';

const noComponents = {} as PipelineComponents;

async function runStep(values: Record<string, unknown>): Promise<PipelineState> {
  const state = new PipelineState({ values });
  await new BlockPluginPromptStyleStep().call(noComponents, state);
  return state;
}

describe('BlockPluginPromptStyleStep', () => {
  it('appends the style phrase to the prompt, the default one when none is given', async () => {
    expect((await runStep({ prompt: 'a red apple', style: 'oil on canvas' })).get('prompt')).toBe('a red apple, oil on canvas');
    expect((await runStep({ prompt: 'a red apple' })).get('prompt')).toBe(`a red apple, ${DEFAULT_STYLE}`);
  });

  it('leaves the prompt alone for an empty style, and names the problem for a non-string prompt', async () => {
    expect(styledPrompt('a pear', '  ')).toBe('a pear');
    await expect(runStep({ prompt: ['a', 'b'] })).rejects.toThrow(/'prompt' must be a string; got a list/);
    await expect(runStep({})).rejects.toThrow(/prompt/);
  });
});

describe('BlockPluginBlocks', () => {
  it('is SDXL text-to-image with the style step first', () => {
    const blocks = new BlockPluginBlocks();
    expect(blocks.blocks.keys()).toEqual(['style', ...TEXT2IMAGE_BLOCKS.keys()]);
    const classes = (b: SequentialPipelineBlocks | BlockPluginBlocks) => [...b.blocks.values()].map((block) => block.className);
    expect(classes(blocks)).toEqual(classes(SequentialPipelineBlocks.fromBlocksDict(BLOCK_PLUGIN_BLOCKS)));
    expect(classes(blocks)[0]).toBe('BlockPluginPromptStyleStep');
  });

  it('takes the prompt from the caller and hands the styled one to the text encoder', () => {
    const blocks = new BlockPluginBlocks();
    expect(blocks.requiredInputs).toContain('prompt');
    const style = blocks.allInputs.find((p) => p.name === 'style');
    expect(style?.default).toBe(DEFAULT_STYLE);
    expect(blocks.doc).toContain('style');
  });
});
