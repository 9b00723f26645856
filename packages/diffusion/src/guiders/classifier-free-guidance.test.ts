import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, it } from 'vitest';
import { expectAllClose } from '../../test/support/float64-reference.js';
import { ComponentConfigError, DiffusionInputError } from '../errors.js';
import { ClassifierFreeGuidance } from './classifier-free-guidance.js';
import { guiderFromConfig } from './guider-registry.js';

const t32 = (values: number[], shape = [values.length]) => new Tensor('float32', Float32Array.from(values), shape);

/** Unbiased std, as torch.std. */
const std = (v: number[]) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
};

describe('ClassifierFreeGuidance', () => {
  it('defaults to scale 7.5 and two batches: cond then uncond', () => {
    const g = new ClassifierFreeGuidance();
    expect(g.guidanceScale).toBe(7.5);
    expect(g.numConditions).toBe(2);
    const cond = t32([1]);
    const uncond = t32([0]);
    const shared = t32([7]);
    const batches = g.prepareInputs({ prompt_embeds: [cond, uncond], time_ids: shared, image_embeds: null });
    expect(batches.map((b) => b.identifier)).toEqual(['pred_cond', 'pred_uncond']);
    expect(batches[0].inputs.prompt_embeds).toBe(cond);
    expect(batches[1].inputs.prompt_embeds).toBe(uncond);
    expect(batches[1].inputs.time_ids).toBe(shared);
    expect('image_embeds' in batches[0].inputs).toBe(false);
  });

  it('combines as uncond + s (cond - uncond); worked: 0.2 + 7.5 (1 - 0.2) = 6.2', () => {
    const g = new ClassifierFreeGuidance();
    const out = g.forward({ pred_cond: t32([1, -0.5]), pred_uncond: t32([0.2, 0.5]) });
    expectAllClose(out.pred.data, [6.2, -7], { rtol: 1e-6 });
    const original = new ClassifierFreeGuidance({ use_original_formulation: true });
    // cond + s (cond - uncond): 1 + 7.5 * 0.8 = 7
    expectAllClose(original.forward({ pred_cond: t32([1]), pred_uncond: t32([0.2]) }).pred.data, [7], { rtol: 1e-6 });
  });

  it('names a NaN guidance_scale as NaN (JSON would print it as null)', () => {
    expect(() => new ClassifierFreeGuidance({ guidance_scale: NaN })).toThrow(
      'ClassifierFreeGuidance overrides `guidance_scale` is NaN: must be a number (NaN is not a number it can use).',
    );
  });

  it('runs the model once at or below the neutral scale', () => {
    const g = new ClassifierFreeGuidance({ guidance_scale: 1 });
    expect(g.numConditions).toBe(1);
    const batches = g.prepareInputs({ prompt_embeds: [t32([1]), t32([0])] });
    expect(batches.map((b) => b.identifier)).toEqual(['pred_cond']);
    batches[0].noisePred = t32([0.25]);
    expect(g.call(batches).pred.data[0]).toBe(0.25);
    expect(new ClassifierFreeGuidance({ guidance_scale: 0, use_original_formulation: true }).numConditions).toBe(1);
    // at or below the neutral scale guidance is off (classic `guidance_scale > 1`), so the model runs once
    expect(new ClassifierFreeGuidance({ guidance_scale: 0.5 }).numConditions).toBe(1);
    expect(new ClassifierFreeGuidance({ guidance_scale: 1.01 }).numConditions).toBe(2);
    expect(new ClassifierFreeGuidance({ guidance_scale: 0.5, use_original_formulation: true }).numConditions).toBe(2);
  });

  it('guides only for steps in [int(start n), int(stop n))', () => {
    const g = new ClassifierFreeGuidance({ start: 0.2, stop: 0.8 });
    const active = Array.from({ length: 10 }, (_, step) => {
      g.setState(step, 10, 999 - step);
      return g.numConditions;
    });
    expect(active).toEqual([1, 1, 2, 2, 2, 2, 2, 2, 1, 1]);
    g.disable();
    g.setState(5, 10);
    expect(g.numConditions).toBe(1);
    g.enable();
    expect(g.numConditions).toBe(2);
  });

  it('guidance_rescale blends toward the conditional std (arXiv 2305.08891 eq. 15-16)', () => {
    const g = new ClassifierFreeGuidance({ guidance_scale: 5, guidance_rescale: 0.7 });
    const cond = [1, 2, -1, 0.5, 3, -2, 0, 1];
    const uncond = [0.5, 1, -0.5, 0, 1, -1, 0.5, 0];
    const out = g.forward({ pred_cond: t32(cond, [2, 4]), pred_uncond: t32(uncond, [2, 4]) });
    const cfg = cond.map((c, i) => uncond[i] + 5 * (c - uncond[i]));
    const expected: number[] = [];
    for (const b of [0, 1]) {
      const slice = (v: number[]) => v.slice(b * 4, b * 4 + 4);
      const ratio = std(slice(cond)) / std(slice(cfg));
      for (const v of slice(cfg)) expected.push(0.7 * v * ratio + 0.3 * v);
    }
    expectAllClose(out.pred.data, expected, { rtol: 1e-6 });
  });

  it('checks batches and predictions', () => {
    const g = new ClassifierFreeGuidance();
    const batches = g.prepareInputs({ x: t32([1]) });
    expect(() => g.call(batches)).toThrow(/noisePred/);
    expect(() => g.call(batches.slice(0, 1))).toThrow(/expected 2 batches/);
    expect(() => g.forward({ pred_cond: t32([1]) })).toThrow(/pred_uncond/);
    expect(() => g.prepareInputs({ x: 3 as never })).toThrow(DiffusionInputError);
    g.prepareModels();
    expect(g.isConditional).toBe(true);
    g.prepareModels();
    expect(g.isUnconditional).toBe(true);
  });

  it('has a config, new(overrides) and fromConfig like diffusers guiders', () => {
    const g = new ClassifierFreeGuidance({ guidance_scale: 5, guidance_rescale: 0.3 });
    expect(g.config).toEqual({
      _class_name: 'ClassifierFreeGuidance',
      guidance_scale: 5,
      guidance_rescale: 0.3,
      use_original_formulation: false,
      start: 0,
      stop: 1,
      enabled: true,
    });
    const h = g.new({ guidance_scale: 9 });
    expect(h).toBeInstanceOf(ClassifierFreeGuidance);
    expect(h.guidanceScale).toBe(9);
    expect(h.guidanceRescale).toBe(0.3);
    const fromJson = guiderFromConfig({ _class_name: 'ClassifierFreeGuidance', _diffusers_version: '0.35.0', guidance_scale: 3 });
    expect(fromJson.guidanceScale).toBe(3);
    expect(() => ClassifierFreeGuidance.fromConfig({ guidance_sacle: 3 })).toThrow(ComponentConfigError);
    expect(() => new ClassifierFreeGuidance({ start: 1 })).toThrow(/start/);
    expect(() => new ClassifierFreeGuidance({ start: 0.5, stop: 0.4 })).toThrow(/stop/);
    expect(() => guiderFromConfig({ _class_name: 'PerturbedAttentionGuidance' })).toThrow(/hooks/);
  });
});
