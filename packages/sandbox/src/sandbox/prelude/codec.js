// @ts-check
// Values cross the boundary as JSON text plus fresh ArrayBuffers, never by reference. The host's
// side of the same wire format is sandbox-value.ts; the marker, depth and type names both use
// come from sandbox-protocol.ts.
import { BINARY_MARKER_KEY, BINARY_MARKER_VALUE, MAX_VALUE_DEPTH } from '../sandbox-protocol.js';
import {
  ArrayBufferCtor, DataViewCtor, MAX_TEXT, SetCtor, StringOf, TypeErrorCtor, U8, abLength, apply, create, defineProperty,
  dvBuffer, dvLength, dvOffset, finite, getStackString, isArray, isSafeInteger, isView, keys, parse, stringify, taBuffer,
  taLength, taOffset, taTag, typedCtors,
} from './realm.js';

/** @typedef {{ json: string, buffers: ArrayBuffer[] }} Encoded */
/** @typedef {{ name: string, message: string, stack: string, code: string }} ErrorInfo */

/** @param {ArrayBufferLike} buffer @param {number} offset @param {number} length */
export function copyBytes(buffer, offset, length) {
  const out = new ArrayBufferCtor(length);
  new U8(out).set(new U8(buffer, offset, length));
  return out;
}
// Internal-slot getters decide what is binary; a Proxy or a look-alike object is not.
/** @param {object} v @returns {[string, ArrayBuffer] | undefined} */
export function binaryOf(v) {
  let length = -1;
  try { length = /** @type {number} */ (apply(abLength, v, [])); } catch { length = -1; }
  if (length >= 0) return ['ArrayBuffer', copyBytes(/** @type {ArrayBuffer} */ (v), 0, length)];
  if (!isView(v)) return undefined;
  const tag = /** @type {string | undefined} */ (apply(taTag, v, []));
  if (tag !== undefined) {
    return [tag, copyBytes(/** @type {ArrayBufferLike} */ (apply(taBuffer, v, [])), /** @type {number} */ (apply(taOffset, v, [])), /** @type {number} */ (apply(taLength, v, [])))];
  }
  return ['DataView', copyBytes(/** @type {ArrayBufferLike} */ (apply(dvBuffer, v, [])), /** @type {number} */ (apply(dvOffset, v, [])), /** @type {number} */ (apply(dvLength, v, [])))];
}
/** @param {unknown} value @returns {Encoded} */
export function encode(value) {
  /** @type {ArrayBuffer[]} */
  const buffers = [];
  /** @type {Set<object>} */
  const ancestors = new SetCtor();
  /** @param {unknown} v @param {number} depth @returns {unknown} */
  function walk(v, depth) {
    const t = typeof v;
    if (t === 'string' || t === 'boolean') return v;
    if (t === 'number') return finite(v) ? v : null;
    if (v === null || t === 'undefined') return null;
    if (t !== 'object') {
      throw new TypeErrorCtor('a ' + t + ' cannot cross the sandbox boundary; pass JSON values, typed arrays or ArrayBuffers');
    }
    const o = /** @type {Record<string, unknown>} */ (v);
    if (depth > MAX_VALUE_DEPTH) throw new TypeErrorCtor('value nests deeper than ' + MAX_VALUE_DEPTH + ' levels');
    const bin = binaryOf(o);
    if (bin !== undefined) {
      /** @type {Record<string, unknown>} */
      const m = create(null);
      m[BINARY_MARKER_KEY] = BINARY_MARKER_VALUE;
      m.i = buffers.length;
      m.t = bin[0];
      buffers.push(bin[1]);
      return m;
    }
    if (ancestors.has(o)) throw new TypeErrorCtor('value contains a cycle; it cannot cross the sandbox boundary');
    ancestors.add(o);
    try {
      if (isArray(o)) {
        const n = o.length;
        if (!isSafeInteger(n) || n < 0) throw new TypeErrorCtor('array length is not a valid length');
        const out = [];
        for (let i = 0; i < n; i += 1) out.push(walk(o[i], depth + 1));
        return out;
      }
      /** @type {Record<string, unknown>} */
      const out = create(null);
      const ks = keys(o);
      for (let i = 0; i < ks.length; i += 1) {
        const k = ks[i];
        if (k === BINARY_MARKER_KEY) throw new TypeErrorCtor('objects may not use the key "' + BINARY_MARKER_KEY + '", which the wire format reserves');
        const x = o[k];
        if (x !== undefined) out[k] = walk(x, depth + 1);
      }
      return out;
    } finally {
      ancestors.delete(o);
    }
  }
  const json = stringify(walk(value, 0));
  return { json, buffers };
}
/** @param {string} json @param {ArrayBuffer[]} inputs @returns {unknown} */
export function decode(json, inputs) {
  /** @param {unknown} v @returns {unknown} */
  function revive(v) {
    if (v === null || typeof v !== 'object') return v;
    if (isArray(v)) {
      for (let i = 0; i < v.length; i += 1) v[i] = revive(v[i]);
      return v;
    }
    const o = /** @type {Record<string, any>} */ (v);
    if (typeof o[BINARY_MARKER_KEY] === 'string') {
      const buffer = inputs[o.i];
      if (buffer === undefined) throw new TypeErrorCtor('binary part ' + StringOf(o.i) + ' was not sent');
      if (o.t === 'ArrayBuffer') return buffer;
      if (o.t === 'DataView') return new DataViewCtor(buffer);
      const C = typedCtors[o.t];
      if (C === undefined) throw new TypeErrorCtor('unknown binary type ' + StringOf(o.t));
      return new C(buffer);
    }
    const ks = keys(o);
    for (let i = 0; i < ks.length; i += 1) {
      defineProperty(o, ks[i], { value: revive(o[ks[i]]), writable: true, enumerable: true, configurable: true });
    }
    return o;
  }
  return revive(parse(json));
}
// Thrown values become three strings, read here inside a timed entry, never by the host.
/** @param {unknown} e @returns {ErrorInfo} */
export function describe(e) {
  let name = 'Error';
  let message = '';
  let stack = '';
  let code = '';
  try {
    if ((typeof e === 'object' && e !== null) || typeof e === 'function') {
      const thrown = /** @type {{ name?: unknown, message?: unknown, code?: unknown }} */ (e);
      const n = thrown.name;
      if (typeof n === 'string') name = n;
      const m = thrown.message;
      message = typeof m === 'string' ? m : m === undefined ? '' : StringOf(m);
      try { stack = StringOf(getStackString(e)); } catch { stack = ''; }
      // An engine error's stable kind (ModularDiffusersError.code), so the host can tell them apart.
      const c = thrown.code;
      if (typeof c === 'string') code = c;
    } else {
      message = StringOf(e);
    }
  } catch {
    if (message === '') message = 'the value thrown inside the sandbox could not be read';
  }
  return { name: name.slice(0, 200), message: message.slice(0, MAX_TEXT), stack: stack.slice(0, 4 * MAX_TEXT), code: code.slice(0, 200) };
}
