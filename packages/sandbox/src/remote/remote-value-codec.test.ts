import { Tensor } from '@modular-diffusers/runtime/tensor';
import { describe, expect, test } from 'vitest';
import { createRemoteValueCodec } from './remote-value-codec.js';

const codec = createRemoteValueCodec({ Tensor: Tensor as never });

describe('remote value codec', () => {
  test('tensors and images travel as tagged data and come back as Tensor / image copies', () => {
    const t = new Tensor('float32', new Float32Array([1.5, -2]), [1, 2]);
    const image = { width: 1, height: 2, channels: 3 as const, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    const wire = codec.encode({ t, list: [image, 'x', 3], n: null }) as Record<string, any>;
    expect(wire.t).toEqual({ $tensor: { dtype: 'float32', shape: [1, 2], data: t.data } });
    expect(wire.list[0].$image.width).toBe(1);
    const back = codec.decode(wire) as Record<string, any>;
    expect(back.t).toBeInstanceOf(Tensor);
    expect(Array.from(back.t.data)).toEqual([1.5, -2]);
    expect(back.list[0]).toEqual(image);
    expect(back.list.slice(1)).toEqual(['x', 3]);
    const wrapped = createRemoteValueCodec({ Tensor: Tensor as never, wrapImage: (i) => ({ wrapped: i.width }) }).decode(wire.list[0]);
    expect(wrapped).toEqual({ wrapped: 1 });
  });

  test('strict encoding refuses what cannot cross and names where it is; lenient copies data', () => {
    class Opaque {
      secret = 1;
      method() {}
    }
    expect(() => codec.encode({ a: { fn: () => 1 } }, { label: "input 'x'" })).toThrow(/input 'x'\.a\.fn is a function/);
    expect(() => codec.encode({ o: new Opaque() })).toThrow(/value\.o is a Opaque instance/);
    expect(() => codec.encode({ $tensor: 1 })).toThrow(/reserves/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => codec.encode(cyclic)).toThrow(/cycle/);
    expect(() => codec.encode(1n)).toThrow(/bigint/);
    expect(codec.encode({ o: new Opaque(), f: () => 1, m: new Map([['k', 2]]) }, { lenient: true })).toEqual({ o: { secret: 1 }, m: { k: 2 } });
  });

  test('a malformed tensor or image from the other side is an error, not a half-built value', () => {
    expect(() => codec.decode({ $tensor: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).toThrow(/3/);
    expect(() => codec.decode({ $image: { width: 2, height: 2, channels: 3, data: new Uint8Array(3) } })).toThrow(/do not agree/);
  });
});
