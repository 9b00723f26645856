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

describe('InsertableOrderedDict bracket access (the guide writes d["denoise"] = X)', () => {
  const abc = () => new InsertableOrderedDict<number>([['a', 1], ['b', 2], ['c', 3]]);

  it('reads, replaces in place, appends, deletes and asks for entries with brackets', () => {
    const d = abc();
    expect(d['b']).toBe(2);
    expect(d['zz']).toBeUndefined();
    d['b'] = 20;
    d['d'] = 4;
    expect(d.entries()).toEqual([['a', 1], ['b', 20], ['c', 3], ['d', 4]]);
    expect('c' in d).toBe(true);
    expect('zz' in d).toBe(false);
    delete d['a'];
    expect(d.keys()).toEqual(['b', 'c', 'd']);
    // A copy is a dict too, and edits to it never reach the original.
    const c = d.copy();
    c['b'] = 200;
    expect([c['b'], d['b']]).toEqual([200, 20]);
  });

  it('a bracket name that is a member means the member; writing or deleting it is a TypeError, never a no-op', () => {
    const d = abc();
    expect(typeof d['keys']).toBe('function');
    expect(d['length']).toBe(3);
    expect(() => {
      // @ts-expect-error the type knows 'keys' is a method too
      d['keys'] = 5;
    }).toThrow(new TypeError("Cannot set 'keys' on an InsertableOrderedDict: 'keys' is one of its own members, not an entry. To store an entry under that name use dict.set('keys', value) (and dict.get('keys') to read it)."));
    expect(() => {
      // @ts-expect-error
      delete d['length'];
    }).toThrow(TypeError);
    d.set('keys', 7);
    expect(d.get('keys')).toBe(7);
    expect(d.keys()).toEqual(['a', 'b', 'c', 'keys']);
    expect(() => d.set(3 as never, 1)).toThrow(new TypeError('InsertableOrderedDict.set(): keys are strings, got number.'));
    expect(() => Object.setPrototypeOf(d, null)).toThrow(TypeError);
  });

  it('is still awaitable and printable (probes for then and other optional members read undefined)', async () => {
    const d = abc();
    expect(await Promise.resolve(d)).toBe(d);
    expect(String(d)).toContain("0: ('a', 1)");
    expect(d).toBeInstanceOf(InsertableOrderedDict);
  });
});
