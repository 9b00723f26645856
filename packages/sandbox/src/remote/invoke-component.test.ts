import { Tensor } from '@modular-diffusers/runtime/tensor';
import { afterEach, describe, expect, test } from 'vitest';
import { componentAccessFor, registerComponentAccess, unregisterComponentAccess } from './component-access.js';
import { createComponentInvoker } from './invoke-component.js';
import { createRemoteValueCodec } from './remote-value-codec.js';

class Doubler {
  readonly config = { k: 2 };
  run(t: Tensor<'float32'>) {
    return new Tensor('float32', t.data.map((v) => v * this.config.k), t.shape);
  }
  release() {
    return 'released';
  }
}
class FancyDoubler extends Doubler {}

const codec = createRemoteValueCodec({ Tensor: Tensor as never });
const components: Record<string, unknown> = { doubler: new FancyDoubler(), empty: null };
let refusal: string | null = null;
const invoke = createComponentInvoker({
  lookup: (name) => ({ exists: Object.hasOwn(components, name), value: components[name] }),
  names: () => Object.keys(components),
  refusal: () => refusal,
  codec,
  access: { Doubler: { methods: ['run'], properties: ['config'] } },
});
const arg = () => codec.encode([new Tensor('float32', new Float32Array([1, 2]), [2])]) as never;

afterEach(() => {
  refusal = null;
  unregisterComponentAccess('Doubler');
});

describe('invokeComponent (host side)', () => {
  test('serves allow-listed methods (inherited entries count) and copies tensors both ways', async () => {
    const out = codec.decode(await invoke('doubler', 'run', arg())) as Tensor<'float32'>;
    expect(Array.from(out.data)).toEqual([2, 4]);
  });

  test('refuses other methods, unknown or unloaded components, bad calls and calls outside a run', async () => {
    await expect(invoke('doubler', 'release', [])).rejects.toThrow(/method 'release' of component 'doubler' \(FancyDoubler\) is not allowed; allowed: run/);
    await expect(invoke('doubler', 'constructor', [])).rejects.toThrow(/not allowed/);
    await expect(invoke('other', 'run', [])).rejects.toThrow(/this pipeline has no component 'other' \(its components: doubler, empty\)/);
    await expect(invoke('empty', 'run', [])).rejects.toThrow(/'empty' is not loaded/);
    await expect(invoke('doubler', 'run')).rejects.toThrow(/takes a component name/);
    refusal = 'components can only be used while the pipeline runs';
    await expect(invoke('doubler', 'run', arg())).rejects.toThrow(/was not called: components can only be used while the pipeline runs/);
  });

  test('registered entries are looked up along the prototype chain; forbidden members cannot be registered', () => {
    expect(componentAccessFor(new FancyDoubler())).toBeNull();
    registerComponentAccess('Doubler', { methods: ['run'], properties: [] });
    expect(componentAccessFor(new FancyDoubler())?.className).toBe('Doubler');
    expect(() => registerComponentAccess('Doubler', { methods: ['constructor'], properties: [] })).toThrow(/cannot be exposed/);
    expect(componentAccessFor({ encode() {} })).toBeNull();
  });
});
