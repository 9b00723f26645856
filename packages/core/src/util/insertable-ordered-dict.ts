import { NotFoundError } from '../errors.js';
import { inspectSymbol } from './inspect.js';

export type DictInit<V> = Iterable<readonly [string, V]> | InsertableOrderedDict<V, unknown> | Record<string, V>;

/** What a bracket read of a member name gives: the dict's own methods and its `length`/`size`. */
export type DictMember = ((...args: never[]) => unknown) | number;

// The entries live under a symbol, so no entry name can clash with them and the string index
// signature (which every string-named member must fit) does not cover them.
const STORE: unique symbol = Symbol('InsertableOrderedDict.store');

/**
 * An ordered string-keyed map that can also insert at a position, like
 * diffusers' `InsertableDict`. Pipeline presets are dicts of block classes
 * and composite blocks keep their sub-blocks in one, so both can be edited
 * the way the guide does: `d['denoise']` reads an entry, `d['denoise'] = X`
 * replaces it in place (or appends a new key), `delete d['x']` removes one and
 * `'x' in d` asks for one, besides `insert`, `set`, `pop`, `copy`, `keys()`.
 *
 * A bracket name that is one of the dict's own members (`keys`, `set`,
 * `length`, ...) means the member: reading it gives the member, writing it is
 * a TypeError (use `set`/`get` for an entry of that name). V is what the dict
 * holds; W what a write may give (a BlocksDict takes a block class and holds
 * its instance).
 */
export class InsertableOrderedDict<V, W = V> implements Iterable<[string, V]> {
  [entry: string]: V | W | DictMember | undefined;
  private readonly [STORE]: { order: string[]; map: Map<string, V> } = { order: [], map: new Map() };

  constructor(init?: DictInit<W>) {
    const proxy = new Proxy(this, DICT_HANDLER) as this;
    if (init) for (const [key, value] of entriesOf(init)) proxy.set(key, value);
    return proxy;
  }


  get length(): number {
    return this[STORE].order.length;
  }

  get size(): number {
    return this[STORE].order.length;
  }

  has(key: string): boolean {
    return this[STORE].map.has(key);
  }

  get(key: string): V | undefined {
    return this[STORE].map.get(key);
  }

  /** Like Python's `d[key]`: throws a NotFoundError naming the keys that exist. */
  getOrThrow(key: string): V {
    if (!this[STORE].map.has(key)) {
      throw new NotFoundError(`No entry '${key}'. Existing keys: ${this[STORE].order.map((k) => `'${k}'`).join(', ') || '(none)'}.`);
    }
    return this[STORE].map.get(key) as V;
  }

  /** Replaces the value of an existing key in place, or appends a new key. */
  set(key: string, value: W): this;
  set(key: string, value: V | W): this {
    checkKey(key, 'set');
    if (!this[STORE].map.has(key)) this[STORE].order.push(key);
    this[STORE].map.set(key, value as V);
    return this;
  }

  /**
   * Puts `key` at `index`, removing an existing entry with that key first.
   * Index semantics follow Python's `list.insert`: negative counts from the
   * end, out of range clamps.
   */
  insert(key: string, value: W, index: number): this;
  insert(key: string, value: V | W, index: number): this {
    checkKey(key, 'insert');
    if (!Number.isInteger(index)) throw new TypeError(`insert() index must be an integer, got ${index}.`);
    const existing = this[STORE].order.indexOf(key);
    if (existing >= 0) this[STORE].order.splice(existing, 1);
    const n = this[STORE].order.length;
    let at = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    if (at > n) at = n;
    this[STORE].order.splice(at, 0, key);
    this[STORE].map.set(key, value as V);
    return this;
  }

  /** Removes and returns `key`'s value; without a fallback a missing key throws. */
  pop(key: string, ...fallback: [V] | []): V {
    if (!this[STORE].map.has(key)) {
      if (fallback.length > 0) return fallback[0] as V;
      return this.getOrThrow(key);
    }
    const value = this[STORE].map.get(key) as V;
    this.delete(key);
    return value;
  }

  delete(key: string): boolean {
    const at = this[STORE].order.indexOf(key);
    if (at < 0) return false;
    this[STORE].order.splice(at, 1);
    this[STORE].map.delete(key);
    return true;
  }

  clear(): void {
    this[STORE].order.length = 0;
    this[STORE].map.clear();
  }

  indexOf(key: string): number {
    return this[STORE].order.indexOf(key);
  }

  keys(): string[] {
    return [...this[STORE].order];
  }

  values(): V[] {
    return this[STORE].order.map((k) => this[STORE].map.get(k) as V);
  }

  entries(): Array<[string, V]> {
    return this[STORE].order.map((k) => [k, this[STORE].map.get(k) as V]);
  }

  /** A shallow copy: a new order, the same values (like Python's `dict.copy`). */
  copy(): InsertableOrderedDict<V, W> {
    return new InsertableOrderedDict<V, W>(this.entries() as unknown as Array<[string, W]>);
  }

  toObject(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }

  [Symbol.iterator](): Iterator<[string, V]> {
    return this.entries()[Symbol.iterator]();
  }

  toString(): string {
    if (this[STORE].order.length === 0) return 'InsertableOrderedDict()';
    const items = this.entries().map(([key, value], i) => `${i}: ('${key}', ${describe(value)})`);
    return `InsertableOrderedDict([\n  ${items.join(',\n  ')}\n])`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function checkKey(key: unknown, method: string): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`InsertableOrderedDict.${method}(): keys are strings, got ${typeof key}.`);
}

function isMember(target: object, prop: string | symbol): boolean {
  return typeof prop === 'symbol' || prop in target;
}

/**
 * Bracket access over the entries. Every trap either does what the same
 * operation on a Python dict does, or throws a TypeError naming the method
 * to use: a write that changes nothing is never silent.
 */
const DICT_HANDLER: ProxyHandler<InsertableOrderedDict<unknown, unknown>> = {
  get(target, prop, receiver) {
    if (isMember(target, prop)) return Reflect.get(target, prop, receiver);
    // A key that is not there reads as undefined (not a KeyError): `await`, printers and test
    // matchers probe objects for optional members such as `then`. getOrThrow is Python's d[key].
    return target.get(prop as string);
  },
  set(target, prop, value, receiver) {
    if (typeof prop === 'symbol') return Reflect.set(target, prop, value, receiver);
    if (isMember(target, prop)) {
      throw new TypeError(
        `Cannot set '${prop}' on an InsertableOrderedDict: '${prop}' is one of its own members, not an entry. ` +
          `To store an entry under that name use dict.set('${prop}', value) (and dict.get('${prop}') to read it).`,
      );
    }
    (receiver as InsertableOrderedDict<unknown, unknown>).set(prop, value);
    return true;
  },
  has(target, prop) {
    return isMember(target, prop) || target.has(prop as string);
  },
  deleteProperty(target, prop) {
    if (isMember(target, prop)) {
      throw new TypeError(`Cannot delete '${String(prop)}' from an InsertableOrderedDict: it is one of its own members, not an entry. Use dict.delete(key) for an entry.`);
    }
    target.delete(prop as string);
    return true;
  },
  setPrototypeOf() {
    throw new TypeError('Cannot change the prototype of an InsertableOrderedDict.');
  },
};


function describe(value: unknown): string {
  if (typeof value === 'function') return `<class '${value.name}'>`;
  if (value !== null && typeof value === 'object') return `<obj '${value.constructor?.name ?? 'Object'}'>`;
  return String(value);
}

export function entriesOf<V>(init: DictInit<V>): Array<[string, V]> {
  if (init instanceof InsertableOrderedDict) return init.entries() as Array<[string, V]>;
  if (init instanceof Map) return [...(init as Map<string, V>)];
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(init as Iterable<readonly [string, V]>)].map(([k, v]) => [k, v]);
  }
  return Object.entries(init as Record<string, V>);
}
