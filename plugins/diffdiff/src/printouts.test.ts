import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { IMAGE2IMAGE_BLOCKS, StableDiffusionXLAutoIPAdapterStep, StableDiffusionXLControlNetAutoInput, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop } from './denoise-loops.js';
import { SDXLDiffDiffBlocks } from './diffdiff-blocks.js';
import { goldenPrintout } from './guide-printout.test-helpers.js';
import { SDXLDiffDiffLoopBeforeDenoiser } from './loop-before-denoiser.js';
import { SDXLDiffDiffPrepareLatentsStep } from './prepare-latents-step.js';
import { DIFFDIFF_AUTO_BLOCKS, DIFFDIFF_BLOCKS } from './presets.js';

// The guide's printouts (golden files in __golden__) for the real blocks; the SDXL blocks' own
// printouts (auto IP-Adapter step, auto ControlNet input) are checked in the sdxl package.

describe('diff-diff printouts follow the developer guide', () => {
  it('prints the assembled DIFFDIFF blocks exactly as the guide', () => {
    expect(SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS).toString()).toBe(goldenPrintout('diffdiff-blocks'));
  });

  it("prints the guide's diff-diff pipeline when its blocks replace prepare_latents and denoise in SDXL's preset", () => {
    // The guide's own lines, bracket form: DIFFDIFF_BLOCKS["denoise"] = SDXLDiffDiffDenoiseLoop.
    const dd = IMAGE2IMAGE_BLOCKS.copy();
    dd['set_timesteps'] = TEXT2IMAGE_BLOCKS['set_timesteps'];
    dd['prepare_latents'] = SDXLDiffDiffPrepareLatentsStep;
    dd['denoise'] = SDXLDiffDiffDenoiseLoop;
    expect(SequentialPipelineBlocks.fromBlocksDict(dd).toString()).toBe(goldenPrintout('diffdiff-blocks'));
    // The preset itself is untouched, and reads with brackets too.
    expect(IMAGE2IMAGE_BLOCKS['denoise']).toBe(IMAGE2IMAGE_BLOCKS.get('denoise'));
    expect(IMAGE2IMAGE_BLOCKS['denoise']).not.toBe(SDXLDiffDiffDenoiseLoop);
  });

  it('prints the pipeline with the auto IP-Adapter inserted at 0 exactly as the guide', () => {
    const ipAdapterBlock = new StableDiffusionXLAutoIPAdapterStep();
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', ipAdapterBlock, 0);
    expect(ddBlocks.toString()).toBe(goldenPrintout('diffdiff-with-ip-adapter'));
  });

  it('adds the ControlNet input at 7 and the ControlNet loop as the guide does', () => {
    const controlInputBlock = new StableDiffusionXLControlNetAutoInput();
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    ddBlocks.blocks.insert('controlnet_input', controlInputBlock, 7);
    ddBlocks.blocks.set('denoise', new SDXLDiffDiffControlNetDenoiseLoop());
    const printout = ddBlocks.toString();
    // The guide prints no full pipeline here; its lines are the IP-Adapter printout's with the two new entries.
    expect(printout).toContain("  Trigger Inputs: {'control_image', 'control_mode', 'ip_adapter_image'}");
    expect(printout).toContain('      controlnet (`ControlNetUnionModel`)\n      control_image_processor (`VaeImageProcessor`)');
    expect(printout).toContain('    [7] controlnet_input (StableDiffusionXLControlNetAutoInput)\n       Description: Controlnet Input step that prepare the controlnet input.');
    expect(printout).toContain('    [8] denoise (SDXLDiffDiffControlNetDenoiseLoop)');
    expect(ddBlocks.blocks.keys()).toEqual([
      'ip_adapter', 'text_encoder', 'image_encoder', 'input', 'set_timesteps', 'prepare_latents', 'prepare_add_cond', 'controlnet_input', 'denoise', 'decode',
    ]);
    const loop = new SDXLDiffDiffControlNetDenoiseLoop();
    expect(loop.blocks.keys()).toEqual(['before_denoiser', 'denoiser', 'after_denoiser']);
    expect(loop.getBlock('before_denoiser')).toBeInstanceOf(SDXLDiffDiffLoopBeforeDenoiser);
    expect(loop.getBlock('denoiser').className).toBe('StableDiffusionXLControlNetLoopDenoiser');
    expect(loop.expectedComponents.map((c) => c.name)).toContain('controlnet');
  });

  it('builds DIFFDIFF_AUTO_BLOCKS as the guide lists it, and SDXLDiffDiffBlocks from it', () => {
    const keys = ['ip_adapter', 'text_encoder', 'image_encoder', 'input', 'set_timesteps', 'prepare_latents', 'prepare_add_cond', 'controlnet_input', 'denoise', 'decode'];
    expect(DIFFDIFF_AUTO_BLOCKS.keys()).toEqual(keys);
    const auto = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_AUTO_BLOCKS);
    expect(auto.triggerInputs).toEqual(['control_image', 'control_mode', 'controlnet_cond', 'ip_adapter_image']);
    expect(auto.getExecutionBlocks('image', 'diffdiff_map')!.getBlock('denoise')).toBeInstanceOf(SDXLDiffDiffDenoiseLoop);
    // control_image makes the ControlNet input step run, whose controlnet_cond picks the ControlNet loop.
    expect(auto.getExecutionBlocks('image', 'diffdiff_map', 'control_image')!.getBlock('denoise')).toBeInstanceOf(SDXLDiffDiffControlNetDenoiseLoop);

    const named = new SDXLDiffDiffBlocks();
    expect(named.blocks.keys()).toEqual(keys);
    expect(named.className).toBe('SDXLDiffDiffBlocks');
    expect(named.inputs.map((p) => p.name)).toEqual(expect.arrayContaining(['prompt', 'image', 'diffdiff_map', 'ip_adapter_image', 'control_image']));
    expect(named.outputs.map((o) => o.name)).toEqual(['images']);
  });

  it('keeps the preset dicts untouched by edits to pipelines built from them', () => {
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', new StableDiffusionXLAutoIPAdapterStep(), 0);
    expect(DIFFDIFF_BLOCKS.keys()).not.toContain('ip_adapter');
  });
});
