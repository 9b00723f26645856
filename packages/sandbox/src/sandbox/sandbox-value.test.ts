import { describe, expect, test } from 'vitest';
import { decodeSandboxValue, encodeSandboxValue } from './sandbox-value.js';

describe('sandbox value wire format', () => {
  test('round-trips JSON with typed arrays, views and ArrayBuffers as copies', () => {
    const backing = new Float32Array([0, 1.5, -2, 3]);
    const view = new Float32Array(backing.buffer, 4, 2); // [1.5, -2]
    const value = { a: [1, 'two', null, true], t: view, b: new Uint8Array([255]).buffer, d: new DataView(new ArrayBuffer(2)) };
    const { json, buffers } = encodeSandboxValue(value);
    expect(buffers.map((b) => b.byteLength)).toEqual([8, 1, 2]);
    expect(JSON.parse(json).t).toEqual({ $mdx: 'bytes', i: 0, t: 'Float32Array' });
    backing[1] = 99; // the encoded copy must not see later writes
    const back = decodeSandboxValue(json, buffers) as typeof value;
    expect(Array.from(back.t)).toEqual([1.5, -2]);
    expect(back.t).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(back.b)).toEqual(new Uint8Array([255]));
    expect(back.d).toBeInstanceOf(DataView);
    expect(back.a).toEqual([1, 'two', null, true]);
  });

  test('follows JSON for undefined and non-finite numbers', () => {
    const { json } = encodeSandboxValue({ u: undefined, n: Number.NaN, i: Number.POSITIVE_INFINITY, arr: [undefined as never] });
    expect(JSON.parse(json)).toEqual({ n: null, i: null, arr: [null] });
  });

  test('refuses functions, bigints, cycles and the reserved key, naming the path', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeSandboxValue({ f: (() => 1) as never })).toThrow(/value\.f is a function/);
    expect(() => encodeSandboxValue([1n as never])).toThrow(/value\[0\] is a bigint/);
    expect(() => encodeSandboxValue(cyclic as never)).toThrow(/value\.self contains a cycle/);
    expect(() => encodeSandboxValue({ $mdx: 'x' })).toThrow(/reserves/);
  });

  test('a "__proto__" key stays data and never changes a prototype', () => {
    const decoded = decodeSandboxValue('{"__proto__":{"polluted":true}}', []) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('rejects markers that point at missing buffers or unknown types', () => {
    expect(() => decodeSandboxValue('{"$mdx":"bytes","i":3,"t":"Float32Array"}', [])).toThrow(/binary part 3/);
    expect(() => decodeSandboxValue('{"$mdx":"bytes","i":0,"t":"Evil"}', [new ArrayBuffer(1)])).toThrow(/unknown type Evil/);
  });
});
