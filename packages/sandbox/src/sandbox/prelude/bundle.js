// @ts-check
// The plugin bundle: defineBlocks() records its exports once; the host then calls them, or
// constructs them and calls the instances, by name, with copied arguments and results.
import { describe, decode, encode } from './codec.js';
import { libraryView, sealed } from './libraries.js';
import { post } from './outbox.js';
import { SANDBOX_API_VERSION } from '../sandbox-protocol.js';
import {
  ErrorCtor, MapCtor, ObjectProto, PromiseCtor, StringOf, TypeErrorCtor, apply, construct, create, fnToString,
  getOwnPropertyDescriptor, getOwnPropertyNames, getPrototypeOf, isArray, keys, stringify,
} from './realm.js';

let bundleLoading = false;
/** @type {Record<string, any> | null} */
let exportsTable = null;
let manifestVersion = 0;
/** @type {Map<string, any>} */
const instances = new MapCtor();
let nextHandle = 1;

/** @param {unknown} version @param {unknown} factory */
export function defineBlocks(version, factory) {
  if (!bundleLoading) throw new ErrorCtor('defineBlocks() can only be called while the plugin bundle loads');
  if (exportsTable !== null) throw new ErrorCtor('defineBlocks() was already called; a bundle defines its exports once');
  if (version !== SANDBOX_API_VERSION) {
    throw new ErrorCtor('this bundle targets sandbox API version ' + StringOf(version) + ' but this host runs version ' +
      SANDBOX_API_VERSION + '; rebuild the plugin against a matching @modular-diffusers/hub');
  }
  if (typeof factory !== 'function') {
    throw new TypeErrorCtor('defineBlocks(version, factory): factory must be a function that returns an object of exports');
  }
  const result = factory(libraryView);
  if (result === null || typeof result !== 'object') {
    throw new TypeErrorCtor('the defineBlocks() factory must return an object of named exports, not ' + typeof result);
  }
  if (typeof result.then === 'function') {
    throw new TypeErrorCtor('the defineBlocks() factory must return its exports synchronously, not a promise');
  }
  /** @type {Record<string, unknown>} */
  const table = create(null);
  const ks = keys(result);
  for (let i = 0; i < ks.length; i += 1) table[ks[i]] = result[ks[i]];
  exportsTable = table;
  manifestVersion = version;
}
export function beginBundle() {
  if (!sealed) throw new ErrorCtor('the sandbox was not sealed before the bundle');
  bundleLoading = true;
}
/** Ends the bundle's load; returns its manifest as JSON. */
export function finishLoad() {
  bundleLoading = false;
  return manifest();
}
/** @param {string} handle */
export function releaseInstance(handle) {
  instances.delete(handle);
}
/** @param {string} target */
function lookup(target) {
  if (exportsTable === null) throw new ErrorCtor('the bundle has no exports');
  if (target.length > 0 && target[0] === '#') {
    if (!instances.has(target)) throw new ErrorCtor('no live instance ' + target + ' (released, or never constructed)');
    return instances.get(target);
  }
  if (!(target in exportsTable)) {
    throw new ErrorCtor('the bundle exports no "' + target + '" (it exports: ' + keys(exportsTable).join(', ') + ')');
  }
  return exportsTable[target];
}
/**
 * Runs one host call; its outcome reaches the outbox as a `return` header, now or when the
 * result settles.
 * @param {number} callId @param {string} target @param {string} method @param {string} mode
 * @param {string} json @param {ArrayBuffer[]} inputs
 */
export function invoke(callId, target, method, mode, json, inputs) {
  /** @type {unknown} */
  let result;
  try {
    const args = decode(json, inputs);
    if (!isArray(args)) throw new TypeErrorCtor('call arguments must arrive as an array');
    const subject = lookup(target);
    if (mode === 'construct') {
      const handle = '#' + nextHandle;
      nextHandle += 1;
      instances.set(handle, construct(subject, args));
      result = handle;
    } else if (method === '') {
      if (typeof subject !== 'function') throw new TypeErrorCtor('"' + target + '" is not a function; name a method to call');
      result = apply(subject, undefined, args);
    } else {
      const fn = subject[method];
      if (typeof fn !== 'function') throw new TypeErrorCtor('"' + target + '" has no method "' + method + '"');
      result = apply(fn, subject, args);
    }
  } catch (e) {
    post({ kind: 'return', id: callId, ok: false, error: describe(e) }, []);
    return;
  }
  // A fresh intrinsic promise adopts whatever came back (value, promise or thenable) inside this realm.
  new PromiseCtor((resolve) => resolve(result)).then(
    (value) => {
      let enc;
      try { enc = encode(value); } catch (e) {
        post({ kind: 'return', id: callId, ok: false, error: describe(e) }, []);
        return;
      }
      post({ kind: 'return', id: callId, ok: true, json: enc.json }, enc.buffers);
    },
    (e) => { post({ kind: 'return', id: callId, ok: false, error: describe(e) }, []); },
  );
}
/** @param {Function} f */
function isClass(f) {
  try { return /^class[\s{]/.test(/** @type {string} */ (apply(fnToString, f, []))); } catch { return false; }
}
/** @param {any} v @param {string} type */
function methodNames(v, type) {
  /** @type {string[]} */
  const names = [];
  let proto = type === 'class' ? v.prototype : type === 'object' ? v : null;
  for (let depth = 0; proto !== null && typeof proto === 'object' && proto !== ObjectProto && depth < 16; depth += 1) {
    const own = getOwnPropertyNames(proto);
    for (let i = 0; i < own.length && names.length < 256; i += 1) {
      const d = getOwnPropertyDescriptor(proto, own[i]);
      if (own[i] !== 'constructor' && d !== undefined && typeof d.value === 'function' && names.indexOf(own[i]) < 0) {
        names.push(own[i]);
      }
    }
    proto = getPrototypeOf(proto);
  }
  return names;
}
function manifest() {
  if (exportsTable === null) {
    throw new ErrorCtor('the bundle never called defineBlocks(' + SANDBOX_API_VERSION + ', factory); nothing was exported');
  }
  const list = [];
  const ks = keys(exportsTable);
  for (let i = 0; i < ks.length; i += 1) {
    const v = exportsTable[ks[i]];
    let type = 'value';
    if (typeof v === 'function') type = isClass(v) ? 'class' : 'function';
    else if (v !== null && typeof v === 'object') type = 'object';
    /** @type {string[]} */
    let methods = [];
    try { methods = methodNames(v, type); } catch { methods = []; }
    list.push({ name: ks[i], type, methods });
  }
  return stringify({ apiVersion: SANDBOX_API_VERSION, manifestVersion, exports: list });
}
