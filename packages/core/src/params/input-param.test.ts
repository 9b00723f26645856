import { describe, expect, it } from 'vitest';
import { ConfigSpec } from './config-spec.js';
import { InputParam } from './input-param.js';
import { OutputParam } from './output-param.js';
import { typeHintName } from './type-hint.js';

describe('InputParam / OutputParam / ConfigSpec', () => {
  it('constructs the guide way and the options-object way', () => {
    const a = new InputParam('diffdiff_map', { required: true });
    const b = new InputParam({ name: 'diffdiff_map', required: true });
    expect(a.fields()).toEqual(b.fields());
    expect(a.required).toBe(true);
    expect(a.default).toBeUndefined();
    expect(a.kwargsType).toBeNull();
    expect(new InputParam('num_inference_steps', { default: 50 }).default).toBe(50);
  });

  it('keys a kwargs-only param by its kwargs type and requires a name or a kwargs type', () => {
    expect(new InputParam({ kwargsType: 'guider_input_fields' }).key).toBe('*_guider_input_fields');
    expect(() => new InputParam({})).toThrow(/needs a name, or a kwargsType/);
  });

  it('copies with changes instead of mutating', () => {
    const p = new InputParam('x', { description: 'd', metadata: { ui: 'slider' } });
    const q = p.with({ required: true });
    expect(p.required).toBe(false);
    expect(q.required).toBe(true);
    expect(q.description).toBe('d');
    expect(q.metadata).toEqual({ ui: 'slider' });
  });

  it('shows type hints by name, strings or classes', () => {
    class Tensor {}
    expect(typeHintName('int')).toBe('int');
    expect(typeHintName(Tensor)).toBe('Tensor');
    expect(typeHintName(null)).toBe('');
    expect(new OutputParam('latents', { typeHint: Tensor }).toString()).toBe('<latents: Tensor>');
    expect(new OutputParam({ name: 'images', kwargsType: 'x' }).kwargsType).toBe('x');
    expect(() => new OutputParam('')).toThrow(/non-empty name/);
  });

  it('ConfigSpec takes positional or object arguments', () => {
    expect(new ConfigSpec('force_zeros_for_empty_prompt', true)).toMatchObject({ name: 'force_zeros_for_empty_prompt', default: true, description: '' });
    expect(new ConfigSpec({ name: 'x', default: 1, description: 'd' }).with({ default: 2 }).default).toBe(2);
  });
});
