import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks, type BlockLike, type InsertableOrderedDict } from '@modular-diffusers/core';
import * as toy from '@modular-diffusers/core/testing';
import { IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from '../presets.js';

// The toy blocks in core/testing carry the guide's declarations; the real presets must print the same.
const print = (blocks: InsertableOrderedDict<BlockLike>) => SequentialPipelineBlocks.fromBlocksDict(blocks).toString();

describe('SDXL preset printouts', () => {
  it('print TEXT2IMAGE and IMAGE2IMAGE exactly as the guide-faithful toy presets', () => {
    expect(print(TEXT2IMAGE_BLOCKS)).toBe(print(toy.TEXT2IMAGE_BLOCKS));
    expect(print(IMAGE2IMAGE_BLOCKS)).toBe(print(toy.IMAGE2IMAGE_BLOCKS));
  });

  it("print the guide's diff-diff pipeline when its blocks replace prepare_latents and denoise", () => {
    // The guide's own lines, bracket form: DIFFDIFF_BLOCKS["denoise"] = SDXLDiffDiffDenoiseLoop.
    const dd = IMAGE2IMAGE_BLOCKS.copy();
    dd['set_timesteps'] = TEXT2IMAGE_BLOCKS['set_timesteps'];
    dd['prepare_latents'] = toy.SDXLDiffDiffPrepareLatentsStep;
    dd['denoise'] = toy.SDXLDiffDiffDenoiseLoop;
    expect(print(dd)).toBe(toy.DIFFDIFF_BLOCKS_PRINTOUT);
    // The preset itself is untouched, and reads with brackets too.
    expect(IMAGE2IMAGE_BLOCKS['denoise']).toBe(IMAGE2IMAGE_BLOCKS.get('denoise'));
    expect(IMAGE2IMAGE_BLOCKS['denoise']).not.toBe(toy.SDXLDiffDiffDenoiseLoop);
  });

  it('print the denoise loop of the presets as the guide', () => {
    const Denoise = IMAGE2IMAGE_BLOCKS.getOrThrow('denoise') as new () => object;
    expect(String(new Denoise())).toBe(toy.DENOISE_LOOP_PRINTOUT);
  });

  it('compute the user inputs of each preset', () => {
    const inputs = (blocks: InsertableOrderedDict<BlockLike>) => SequentialPipelineBlocks.fromBlocksDict(blocks).inputs.map((p) => p.name);
    expect(inputs(TEXT2IMAGE_BLOCKS)).toEqual(expect.arrayContaining(['prompt', 'negative_prompt', 'num_images_per_prompt', 'height', 'width', 'generator', 'output_type']));
    expect(inputs(IMAGE2IMAGE_BLOCKS)).toEqual(expect.arrayContaining(['image', 'strength', 'denoising_start']));
    expect(inputs(IMAGE2IMAGE_BLOCKS)).not.toContain('latent_timestep');
    expect(inputs(INPAINT_BLOCKS)).toEqual(expect.arrayContaining(['image', 'mask_image', 'strength']));
    expect(inputs(INPAINT_BLOCKS)).not.toContain('mask');
    const inpaintComponents = SequentialPipelineBlocks.fromBlocksDict(INPAINT_BLOCKS).expectedComponents.map((c) => c.name);
    expect(inpaintComponents).toContain('mask_processor');
  });
});
