import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks, type BlockLike, type InsertableOrderedDict } from '@modular-diffusers/core';
import { IMAGE2IMAGE_BLOCKS, INPAINT_BLOCKS, TEXT2IMAGE_BLOCKS } from '../presets.js';
import { goldenPrintout } from '../printouts/guide-printout.test-helpers.js';

// The real presets' printouts against the golden files in src/printouts/__golden__ (the guide's, where it prints them).
const print = (blocks: InsertableOrderedDict<BlockLike>) => SequentialPipelineBlocks.fromBlocksDict(blocks).toString();

describe('SDXL preset printouts', () => {
  it('print TEXT2IMAGE and IMAGE2IMAGE exactly as their golden printouts', () => {
    expect(print(TEXT2IMAGE_BLOCKS)).toBe(goldenPrintout('text2image-blocks'));
    expect(print(IMAGE2IMAGE_BLOCKS)).toBe(goldenPrintout('image2image-blocks'));
  });

  it('edit a copy with brackets, as the guide does, and leave the preset untouched', () => {
    // The guide's first diff-diff edit: IMAGE2IMAGE_BLOCKS with text-to-image timesteps (diff-diff has no strength).
    const edited = IMAGE2IMAGE_BLOCKS.copy();
    edited['set_timesteps'] = TEXT2IMAGE_BLOCKS['set_timesteps'];
    expect(edited.keys()).toEqual(IMAGE2IMAGE_BLOCKS.keys());
    const printout = print(edited);
    expect(printout).toContain("    [3] set_timesteps (StableDiffusionXLSetTimestepsStep)\n       Description: Step that sets the scheduler's timesteps for inference\n");
    expect(printout).not.toContain('StableDiffusionXLImg2ImgSetTimestepsStep');
    // The preset itself is untouched, and reads with brackets too.
    expect(print(IMAGE2IMAGE_BLOCKS)).toBe(goldenPrintout('image2image-blocks'));
    expect(IMAGE2IMAGE_BLOCKS['denoise']).toBe(IMAGE2IMAGE_BLOCKS.get('denoise'));
    expect(IMAGE2IMAGE_BLOCKS['set_timesteps']).not.toBe(TEXT2IMAGE_BLOCKS['set_timesteps']);
  });

  it('print the denoise loop of the presets as the guide', () => {
    const Denoise = IMAGE2IMAGE_BLOCKS.getOrThrow('denoise') as new () => object;
    expect(String(new Denoise())).toBe(goldenPrintout('denoise-loop'));
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
