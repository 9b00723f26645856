/**
 * Runs INSIDE the sandbox. A stand-in for a component that stays on the host:
 * an instance of a class named like the host's class, holding copies of the
 * host's listed properties, whose listed methods are async and forward to
 * `capabilities.invokeComponent(name, method, args)`. The host checks every
 * call against its allow-list; the proxy only mirrors it for convenience.
 */
import type { RemoteValueCodec } from '../remote-value-codec.js';

export interface ProxyOffer {
  name: string;
  type: string;
  methods: readonly string[];
  properties: Readonly<Record<string, unknown>>;
}

type InvokeComponent = (name: string, method: string, args: unknown) => Promise<unknown>;

export function createComponentProxy(offer: ProxyOffer, codec: RemoteValueCodec, invoke: InvokeComponent): object {
  const ProxyClass = class {};
  // The printed class name (and ComponentSpec.fromComponent's type) is the host class's name.
  Object.defineProperty(ProxyClass, 'name', { value: offer.type, configurable: true });
  for (const method of offer.methods) {
    const forward = async function (...args: unknown[]): Promise<unknown> {
      const encoded = codec.encode(args, { label: `${offer.name}.${method}() arguments` });
      return codec.decode(await invoke(offer.name, method, encoded));
    };
    Object.defineProperty(forward, 'name', { value: method, configurable: true });
    Object.defineProperty(ProxyClass.prototype, method, { value: forward, writable: true, configurable: true });
  }
  const instance = new ProxyClass() as Record<string, unknown>;
  for (const key of Object.keys(offer.properties)) {
    Object.defineProperty(instance, key, { value: codec.decode(offer.properties[key]), enumerable: true, writable: true, configurable: true });
  }
  return instance;
}
