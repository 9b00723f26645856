import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { InsertableOrderedDict } from './insertable-ordered-dict.js';

describe('InsertableOrderedDict', () => {
  const abc = () => new InsertableOrderedDict<number>([['a', 1], ['b', 2], ['c', 3]]);

  it('keeps insertion order and replaces in place with set', () => {
    const d = abc();
    d.set('b', 20).set('d', 4);
    expect(d.entries()).toEqual([['a', 1], ['b', 20], ['c', 3], ['d', 4]]);
    expect(d.length).toBe(4);
  });

  it('inserts at an index, removing an existing key first (Python list.insert semantics)', () => {
    expect(abc().insert('x', 9, 0).keys()).toEqual(['x', 'a', 'b', 'c']);
    expect(abc().insert('x', 9, 2).keys()).toEqual(['a', 'b', 'x', 'c']);
    expect(abc().insert('x', 9, 99).keys()).toEqual(['a', 'b', 'c', 'x']);
    expect(abc().insert('x', 9, -1).keys()).toEqual(['a', 'b', 'x', 'c']);
    const moved = abc().insert('c', 30, 0);
    expect(moved.entries()).toEqual([['c', 30], ['a', 1], ['b', 2]]);
    expect(() => abc().insert('x', 9, 1.5)).toThrow(TypeError);
  });

  it('pops with and without a fallback', () => {
    const d = abc();
    expect(d.pop('b')).toBe(2);
    expect(d.keys()).toEqual(['a', 'c']);
    expect(d.pop('zz', 0)).toBe(0);
    expect(() => d.pop('zz')).toThrow(NotFoundError);
    expect(() => d.getOrThrow('zz')).toThrow(/Existing keys: 'a', 'c'/);
  });

  it('copies shallowly: a new order, the same values', () => {
    const value = { n: 1 };
    const d = new InsertableOrderedDict([['a', value]]);
    const c = d.copy();
    c.set('b', { n: 2 });
    expect(d.keys()).toEqual(['a']);
    expect(c.get('a')).toBe(value);
  });

  it('builds from records and other dicts, iterates, and prints', () => {
    const d = new InsertableOrderedDict<unknown>({ x: class Foo {}, y: new (class Bar {})() });
    expect([...d].map(([k]) => k)).toEqual(['x', 'y']);
    expect(new InsertableOrderedDict(d).keys()).toEqual(['x', 'y']);
    expect(d.toString()).toBe("InsertableOrderedDict([\n  0: ('x', <class 'Foo'>),\n  1: ('y', <obj 'Bar'>)\n])");
    expect(new InsertableOrderedDict().toString()).toBe('InsertableOrderedDict()');
  });
});
