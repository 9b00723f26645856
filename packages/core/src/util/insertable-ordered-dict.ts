import { NotFoundError } from '../errors.js';
import { inspectSymbol } from './inspect.js';

export type DictInit<V> = Iterable<readonly [string, V]> | InsertableOrderedDict<V> | Record<string, V>;

/**
 * An ordered string-keyed map that can also insert at a position, like
 * diffusers' `InsertableDict`. Pipeline presets are dicts of block classes
 * and composite blocks keep their sub-blocks in one, so both can be edited
 * the way the guide does (`blocks.insert('ip_adapter', block, 0)`).
 */
export class InsertableOrderedDict<V> implements Iterable<[string, V]> {
  private readonly order: string[] = [];
  private readonly map = new Map<string, V>();

  constructor(init?: DictInit<V>) {
    if (init) for (const [key, value] of entriesOf(init)) this.set(key, value);
  }

  get length(): number {
    return this.order.length;
  }

  get size(): number {
    return this.order.length;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Like Python's `d[key]`: throws a NotFoundError naming the keys that exist. */
  getOrThrow(key: string): V {
    if (!this.map.has(key)) {
      throw new NotFoundError(`No entry '${key}'. Existing keys: ${this.order.map((k) => `'${k}'`).join(', ') || '(none)'}.`);
    }
    return this.map.get(key) as V;
  }

  /** Replaces the value of an existing key in place, or appends a new key. */
  set(key: string, value: V): this {
    if (!this.map.has(key)) this.order.push(key);
    this.map.set(key, value);
    return this;
  }

  /**
   * Puts `key` at `index`, removing an existing entry with that key first.
   * Index semantics follow Python's `list.insert`: negative counts from the
   * end, out of range clamps.
   */
  insert(key: string, value: V, index: number): this {
    if (!Number.isInteger(index)) throw new TypeError(`insert() index must be an integer, got ${index}.`);
    const existing = this.order.indexOf(key);
    if (existing >= 0) this.order.splice(existing, 1);
    const n = this.order.length;
    let at = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    if (at > n) at = n;
    this.order.splice(at, 0, key);
    this.map.set(key, value);
    return this;
  }

  /** Removes and returns `key`'s value; without a fallback a missing key throws. */
  pop(key: string, ...fallback: [V] | []): V {
    if (!this.map.has(key)) {
      if (fallback.length > 0) return fallback[0] as V;
      return this.getOrThrow(key);
    }
    const value = this.map.get(key) as V;
    this.delete(key);
    return value;
  }

  delete(key: string): boolean {
    const at = this.order.indexOf(key);
    if (at < 0) return false;
    this.order.splice(at, 1);
    this.map.delete(key);
    return true;
  }

  clear(): void {
    this.order.length = 0;
    this.map.clear();
  }

  indexOf(key: string): number {
    return this.order.indexOf(key);
  }

  keys(): string[] {
    return [...this.order];
  }

  values(): V[] {
    return this.order.map((k) => this.map.get(k) as V);
  }

  entries(): Array<[string, V]> {
    return this.order.map((k) => [k, this.map.get(k) as V]);
  }

  /** A shallow copy: a new order, the same values (like Python's `dict.copy`). */
  copy(): InsertableOrderedDict<V> {
    return new InsertableOrderedDict<V>(this.entries());
  }

  toObject(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }

  [Symbol.iterator](): Iterator<[string, V]> {
    return this.entries()[Symbol.iterator]();
  }

  toString(): string {
    if (this.order.length === 0) return 'InsertableOrderedDict()';
    const items = this.entries().map(([key, value], i) => `${i}: ('${key}', ${describe(value)})`);
    return `InsertableOrderedDict([\n  ${items.join(',\n  ')}\n])`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `<class '${value.name}'>`;
  if (value !== null && typeof value === 'object') return `<obj '${value.constructor?.name ?? 'Object'}'>`;
  return String(value);
}

export function entriesOf<V>(init: DictInit<V>): Array<[string, V]> {
  if (init instanceof InsertableOrderedDict) return init.entries();
  if (init instanceof Map) return [...(init as Map<string, V>)];
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(init as Iterable<readonly [string, V]>)].map(([k, v]) => [k, v]);
  }
  return Object.entries(init as Record<string, V>);
}
