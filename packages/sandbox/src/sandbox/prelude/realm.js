// @ts-check
// First part of the prelude: locks the realm down and keeps this realm's intrinsics before any
// untrusted code runs. Every value the prelude hands out is built from these, which lockdown()
// has frozen, so no host function or object is ever reachable from plugin code.
import { TYPED_ARRAY_NAMES } from '../sandbox-protocol.js';

/**
 * The context's global object as SES leaves it before the prelude removes what must not be reachable.
 * @typedef {{
 *   lockdown(options: Record<string, string>): void,
 *   harden<T>(value: T): T,
 *   getStackString(error: unknown): string,
 * }} SesGlobals
 */

export const g = /** @type {Record<string, unknown> & SesGlobals} */ (/** @type {unknown} */ (globalThis));
g.lockdown({
  errorTaming: 'safe',
  overrideTaming: 'severe',
  consoleTaming: 'unsafe',
  domainTaming: 'unsafe',
  stackFiltering: 'concise',
});
export const harden = g.harden;
export const getStackString = g.getStackString;

// Blocking waits, shared memory, code from bytes, and callbacks that run outside any timed entry.
for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly', 'FinalizationRegistry', 'WeakRef',
  'lockdown', 'repairIntrinsics', 'Compartment', 'getStackString']) {
  delete g[name];
}

export const { apply, construct } = Reflect;
export const { create, keys, defineProperty, freeze, getOwnPropertyNames, getOwnPropertyDescriptor, getPrototypeOf } = Object;
export const ObjectProto = Object.prototype;
export const { isArray } = Array;
export const { parse, stringify } = JSON;
export const { isSafeInteger } = Number;
export const finite = Number.isFinite;
export const StringOf = String;
export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const PromiseCtor = Promise;
export const MapCtor = Map;
export const SetCtor = Set;
export const ArrayBufferCtor = ArrayBuffer;
export const U8 = Uint8Array;
export const DataViewCtor = DataView;
export const fnToString = Function.prototype.toString;
export const isView = ArrayBuffer.isView;
/** @type {(proto: object, key: PropertyKey) => (this: unknown) => unknown} */
const getter = (proto, key) => /** @type {() => unknown} */ (/** @type {PropertyDescriptor} */ (getOwnPropertyDescriptor(proto, key)).get);
const TypedArrayProto = getPrototypeOf(U8.prototype);
export const taTag = getter(TypedArrayProto, Symbol.toStringTag);
export const taBuffer = getter(TypedArrayProto, 'buffer');
export const taOffset = getter(TypedArrayProto, 'byteOffset');
export const taLength = getter(TypedArrayProto, 'byteLength');
export const dvBuffer = getter(DataViewCtor.prototype, 'buffer');
export const dvOffset = getter(DataViewCtor.prototype, 'byteOffset');
export const dvLength = getter(DataViewCtor.prototype, 'byteLength');
export const abLength = getter(ArrayBufferCtor.prototype, 'byteLength');
/** @type {Record<string, new (buffer: ArrayBuffer) => ArrayBufferView>} */
export const typedCtors = create(null);
for (const name of TYPED_ARRAY_NAMES) {
  typedCtors[name] = /** @type {new (buffer: ArrayBuffer) => ArrayBufferView} */ (g[name]);
}
export const MAX_PENDING = 4096;
export const MAX_LOGS_PER_ENTRY = 1000;
export const MAX_TEXT = 8192;
