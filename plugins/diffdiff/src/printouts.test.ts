import { describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import {
  AUTO_IP_ADAPTER_PRINTOUT,
  CONTROLNET_AUTO_INPUT_PRINTOUT,
  DIFFDIFF_BLOCKS_PRINTOUT,
  DIFFDIFF_WITH_IP_ADAPTER_PRINTOUT,
} from '@modular-diffusers/core/testing';
import { StableDiffusionXLAutoIPAdapterStep, StableDiffusionXLControlNetAutoInput } from '@modular-diffusers/sdxl';
import { SDXLDiffDiffControlNetDenoiseLoop, SDXLDiffDiffDenoiseLoop } from './denoise-loops.js';
import { SDXLDiffDiffBlocks } from './diffdiff-blocks.js';
import { SDXLDiffDiffLoopBeforeDenoiser } from './loop-before-denoiser.js';
import { DIFFDIFF_AUTO_BLOCKS, DIFFDIFF_BLOCKS } from './presets.js';

// The guide's printouts (copied verbatim into core/testing) for the real blocks.

describe('diff-diff printouts follow the developer guide', () => {
  it('prints the assembled DIFFDIFF blocks exactly as the guide', () => {
    expect(SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS).toString()).toBe(DIFFDIFF_BLOCKS_PRINTOUT);
  });

  it('prints the pipeline with the auto IP-Adapter inserted at 0 exactly as the guide', () => {
    const ipAdapterBlock = new StableDiffusionXLAutoIPAdapterStep();
    expect(ipAdapterBlock.toString()).toBe(AUTO_IP_ADAPTER_PRINTOUT);
    const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
    ddBlocks.blocks.insert('ip_adapter', ipAdapterBlock, 0);
    expect(ddBlocks.toString()).toBe(DIFFDIFF_WITH_IP_ADAPTER_PRINTOUT);
  });

  it('adds the ControlNet input at 7 and the ControlNet loop as the guide does', () => {
    const controlInputBlock = new StableDiffusionXLControlNetAutoInput();
    expect(controlInputBlock.toString()).toBe(CONTROLNET_AUTO_INPUT_PRINTOUT);
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
