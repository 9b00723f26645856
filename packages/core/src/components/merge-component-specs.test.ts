import { describe, expect, it } from 'vitest';
import { ComponentConflictError } from '../errors.js';
import { ConfigSpec } from '../params/config-spec.js';
import { ComponentSpec } from './component-spec.js';
import { mergeComponentSpecs, mergeConfigSpecs } from './merge-component-specs.js';

describe('mergeComponentSpecs', () => {
  it('keeps declaration order and collapses equal specs to the first', () => {
    const merged = mergeComponentSpecs([
      { block: 'a', specs: [new ComponentSpec('vae', 'AutoencoderKL'), new ComponentSpec('scheduler', 'Euler')] },
      { block: 'b', specs: [new ComponentSpec('unet', 'UNet'), new ComponentSpec('vae', 'AutoencoderKL')] },
    ]);
    expect(merged.map((s) => s.name)).toEqual(['vae', 'scheduler', 'unet']);
  });

  it('collapses a type-only difference (the type is a hint), keeping the first type', () => {
    const merged = mergeComponentSpecs([
      { block: 'union', specs: [new ComponentSpec('controlnet', 'ControlNetUnionModel')] },
      { block: 'plain', specs: [new ComponentSpec('controlnet', 'ControlNetModel')] },
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.typeName).toBe('ControlNetUnionModel');
  });

  it('prefers a spec that names a repo over one that does not', () => {
    const merged = mergeComponentSpecs([
      { block: 'a', specs: [new ComponentSpec('unet', 'UNet')] },
      { block: 'b', specs: [new ComponentSpec('unet', 'UNet', { repo: 'org/sdxl', subfolder: 'unet' })] },
    ]);
    expect(merged[0]!.loadId).toBe('org/sdxl|unet|null|null');
  });

  it('throws naming both blocks when creation methods or repos conflict', () => {
    expect(() =>
      mergeComponentSpecs([
        { block: "'a' (A)", specs: [new ComponentSpec('guider', 'CFG', { defaultCreationMethod: 'fromConfig' })] },
        { block: "'b' (B)", specs: [new ComponentSpec('guider', 'CFG')] },
      ]),
    ).toThrow(/'a' \(A\) creates it fromConfig but 'b' \(B\) creates it fromPretrained/);
    expect(() =>
      mergeComponentSpecs([
        { block: 'a', specs: [new ComponentSpec('unet', 'UNet', { repo: 'x' })] },
        { block: 'b', specs: [new ComponentSpec('unet', 'UNet', { repo: 'y' })] },
      ]),
    ).toThrow(ComponentConflictError);
  });

  it('merges configs by name, first default wins', () => {
    const merged = mergeConfigSpecs([
      { block: 'a', specs: [new ConfigSpec('force_zeros_for_empty_prompt', true)] },
      { block: 'b', specs: [new ConfigSpec('force_zeros_for_empty_prompt', false), new ConfigSpec('requires_aesthetics_score', false)] },
    ]);
    expect(merged.map((c) => [c.name, c.default])).toEqual([
      ['force_zeros_for_empty_prompt', true],
      ['requires_aesthetics_score', false],
    ]);
  });
});
