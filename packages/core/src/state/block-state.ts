import { UndeclaredStateKeyError } from '../errors.js';
import { inspectSymbol } from '../util/inspect.js';
import { formatBlockStateValue } from './format-value.js';
import type { RunContext } from './run-context.js';

export interface BlockStateOptions {
  /** Names the block declares (inputs, outputs, kwargs groups); with `strict`, other unset names throw on read. */
  declared?: Iterable<string> | null;
  strict?: boolean;
  /** Who owns the state, for error messages, e.g. "'prepare_latents' (SDXLDiffDiffPrepareLatentsStep)". */
  owner?: string;
  context?: RunContext | null;
}

interface Internals {
  values: Map<string, unknown>;
  declared: ReadonlySet<string> | null;
  strict: boolean;
  owner: string;
  context: RunContext | null;
}

const internals = new WeakMap<object, Internals>();

// Probes made by awaiters, serializers and test matchers; never treated as block-state keys.
const PROBES = new Set(['then', 'toJSON', 'asymmetricMatch', 'nodeType', 'constructor', 'tagName']);

const RESERVED = new Set(['asDict', 'has', 'keys', 'toString']);

/**
 * A block's local view of the pipeline state with attribute access:
 * `blockState.latents`. Missing names read as `undefined`; in strict mode a
 * name the block neither declares nor has set throws, which catches typos.
 * A typed block's `getBlockState` gives `BlockState & StateOf<spec>`; an
 * untyped one `BlockState & Record<string, unknown>`, or the view passed as
 * its type argument (`getBlockState<{ latents: Tensor }>(state)`).
 */
export class BlockState {
  constructor(values: Record<string, unknown> | Map<string, unknown> = {}, options: BlockStateOptions = {}) {
    const data: Internals = {
      values: new Map(values instanceof Map ? values : Object.entries(values)),
      declared: options.declared ? new Set(options.declared) : null,
      strict: options.strict ?? false,
      owner: options.owner ?? 'BlockState',
      context: options.context ?? null,
    };
    const proxy = new Proxy(this, handler(data));
    internals.set(proxy, data);
    // Node's inspect looks at the proxy target directly, so the target must resolve too.
    internals.set(this, data);
    return proxy;
  }

  /** A plain object copy of the values. */
  asDict(): Record<string, unknown> {
    return Object.fromEntries(stateOf(this).values);
  }

  /** Whether the name has been set (even to undefined). */
  has(key: string): boolean {
    return stateOf(this).values.has(key);
  }

  keys(): string[] {
    return [...stateOf(this).values.keys()];
  }

  toString(): string {
    const lines = [...stateOf(this).values].map(([k, v]) => `    ${k}: ${formatBlockStateValue(v)}`);
    return `BlockState(\n${lines.join('\n')}\n)`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function stateOf(blockState: BlockState): Internals {
  const data = internals.get(blockState);
  if (!data) throw new TypeError('Not a BlockState.');
  return data;
}

/** The run context a block state was made under (abort signal, progress), if any. */
export function blockStateContext(blockState: BlockState): RunContext | null {
  return stateOf(blockState).context;
}

function handler(data: Internals): ProxyHandler<BlockState> {
  return {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
      if (data.values.has(prop)) return data.values.get(prop);
      if (prop in target || PROBES.has(prop) || prop.startsWith('$$') || prop.startsWith('@@')) {
        return Reflect.get(target, prop, receiver);
      }
      if (data.strict && !data.declared?.has(prop)) throw new UndeclaredStateKeyError(prop, data.owner);
      return undefined;
    },
    set(target, prop, value, receiver) {
      if (typeof prop === 'symbol') return Reflect.set(target, prop, value, receiver);
      if (RESERVED.has(prop)) throw new TypeError(`'${prop}' is a BlockState method; store the value under another name.`);
      data.values.set(prop, value);
      return true;
    },
    has(target, prop) {
      return typeof prop === 'string' && data.values.has(prop) ? true : Reflect.has(target, prop);
    },
    deleteProperty(_target, prop) {
      if (typeof prop === 'string') data.values.delete(prop);
      return true;
    },
    ownKeys() {
      return [...data.values.keys()];
    },
    getOwnPropertyDescriptor(target, prop) {
      if (typeof prop === 'string' && data.values.has(prop)) {
        return { value: data.values.get(prop), writable: true, enumerable: true, configurable: true };
      }
      return Reflect.getOwnPropertyDescriptor(target, prop);
    },
    defineProperty(target, prop, descriptor) {
      if (typeof prop === 'symbol') return Reflect.defineProperty(target, prop, descriptor);
      data.values.set(prop, descriptor.value);
      return true;
    },
  };
}
