import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UndeclaredStateKeyError } from '../errors.js';
import { BlockState } from './block-state.js';

describe('BlockState', () => {
  it('gives attribute and bracket access, undefined for missing names', () => {
    const bs = new BlockState({ latents: [1, 2] }) as BlockState & Record<string, any>;
    expect(bs.latents).toEqual([1, 2]);
    expect(bs['latents']).toEqual([1, 2]);
    expect(bs.missing).toBeUndefined();
    bs.dtype = 'float32';
    expect(bs.has('dtype')).toBe(true);
    expect(bs.keys()).toEqual(['latents', 'dtype']);
    expect({ ...bs }).toEqual({ latents: [1, 2], dtype: 'float32' });
    expect(bs.asDict()).toEqual({ latents: [1, 2], dtype: 'float32' });
    expect('dtype' in bs).toBe(true);
    delete bs.dtype;
    expect(bs.has('dtype')).toBe(false);
    expect(bs).toBeInstanceOf(BlockState);
  });

  it('in strict mode, reading a name that is neither declared nor set throws', () => {
    const bs = new BlockState({ a: 1 }, { declared: ['a', 'out'], strict: true, owner: 'MyStep' }) as BlockState & Record<string, any>;
    expect(bs.a).toBe(1);
    expect(bs.out).toBeUndefined(); // declared output, not yet set
    expect(() => bs.typo).toThrow(UndeclaredStateKeyError);
    expect(() => bs.typo).toThrow(/Block MyStep read 'typo'/);
    bs.scratch = 3; // temporaries are fine once set
    expect(bs.scratch).toBe(3);
    expect(bs.then).toBeUndefined(); // awaiters' probe is never an error
  });

  it('refuses to shadow its own methods', () => {
    const bs = new BlockState() as unknown as Record<string, unknown>;
    expect(() => {
      bs.asDict = 1;
    }).toThrow(/'asDict' is a BlockState method/);
  });

  it('prints values with tensors summarised, also through util.inspect', () => {
    const t = { dtype: 'float16', shape: [1, 4] };
    const bs = new BlockState({ latents: t, list: [t, t], fields: { prompt_embeds: t, scale: 2 }, name: 'x' });
    const expected = [
      'BlockState(',
      '    latents: Tensor(dtype=float16, shape=[1, 4])',
      '    list: list[2] of Tensors with shapes [[1, 4], [1, 4]]',
      "    fields: {'prompt_embeds': 'Tensor(dtype=float16, shape=[1, 4])', 'scale': 2}",
      "    name: 'x'",
      ')',
    ].join('\n');
    expect(bs.toString()).toBe(expected);
    expect(inspect(bs)).toBe(expected);
  });
});
