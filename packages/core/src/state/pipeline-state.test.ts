import { describe, expect, it } from 'vitest';
import { PipelineState } from './pipeline-state.js';

describe('PipelineState', () => {
  it('stores values, tags them by kwargs type once, and reads one or many', () => {
    const state = new PipelineState();
    state.set('prompt_embeds', 1, 'guider_input_fields');
    state.set('prompt_embeds', 2, 'guider_input_fields');
    state.set('add_time_ids', [1, 2], 'guider_input_fields');
    state.set('latents', [0]);
    expect(state.get('prompt_embeds')).toBe(2);
    expect(state.get(['latents', 'missing'])).toEqual({ latents: [0], missing: undefined });
    expect(state.kwargsMapping.get('guider_input_fields')).toEqual(['prompt_embeds', 'add_time_ids']);
    expect(state.getByKwargs('guider_input_fields')).toEqual({ prompt_embeds: 2, add_time_ids: [1, 2] });
    expect(state.getByKwargs('nothing')).toEqual({});
    expect(state.keys()).toEqual(['prompt_embeds', 'add_time_ids', 'latents']);
  });

  it('copies values and tags into an independent state', () => {
    const state = new PipelineState({ values: { a: 1 }, strict: true });
    state.set('b', 2, 'tag');
    const copy = state.copy();
    copy.set('c', 3, 'tag');
    expect(state.has('c')).toBe(false);
    expect(state.kwargsMapping.get('tag')).toEqual(['b']);
    expect(copy.strict).toBe(true);
  });

  it('prints like diffusers, summarising tensors by dtype and shape', () => {
    const state = new PipelineState();
    state.set('latents', { dtype: 'float32', shape: [1, 4, 128, 128], data: new Float32Array(0) }, 'x');
    state.set('images', [{ dtype: 'float32', shape: [3, 8, 8] }]);
    state.set('output_type', 'pil');
    state.set('latent_timestep', null);
    expect(state.toString()).toBe(
      [
        'PipelineState(',
        '  values={',
        '    latents: Tensor(dtype=float32, shape=[1, 4, 128, 128])',
        '    images: [Tensor(dtype=float32, shape=[3, 8, 8]), ...]',
        "    output_type: 'pil'",
        '    latent_timestep: None',
        '  },',
        '  kwargs_mapping={',
        "    x: ['latents']",
        '  }',
        ')',
      ].join('\n'),
    );
  });
});
