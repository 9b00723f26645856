/** Version of the in-sandbox API (`defineBlocks`, `capabilities`, `modularLibraries`); bundles pass it to `defineBlocks`. */
export const SANDBOX_API_VERSION = 1;

/** Name of the one global through which the sandbox process enters the context (harmless when the sandbox calls it). */
export const PUMP_GLOBAL = '__sandboxPump';

/**
 * Trusted code evaluated inside the vm context right after SES. It locks the realm down, removes
 * what must not be reachable, and builds the whole sandbox API from context-realm functions, so no
 * host function or object is ever reachable from plugin code. Its completion value is the private
 * "port" object through which the sandbox process and `__sandboxPump()` exchange strings and byte buffers.
 *
 * Kept as source text (not a stringified function) so no transpiler or coverage tool can inject
 * host helpers into it. Plain JavaScript; every value it hands out is built with this realm's
 * intrinsics, which lockdown() has frozen before any untrusted code runs.
 */
export const CONTEXT_PRELUDE = String.raw`(() => {
'use strict';
const g = globalThis;
g.lockdown({
  errorTaming: 'safe',
  overrideTaming: 'severe',
  consoleTaming: 'unsafe',
  domainTaming: 'unsafe',
  stackFiltering: 'concise',
});
const harden = g.harden;
const getStackString = g.getStackString;
const API_VERSION = ${SANDBOX_API_VERSION};

// Blocking waits, shared memory, code from bytes, and callbacks that run outside any timed entry.
for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly', 'FinalizationRegistry', 'WeakRef',
  'lockdown', 'repairIntrinsics', 'Compartment', 'getStackString']) {
  delete g[name];
}

const { apply, construct } = Reflect;
const { create, keys, defineProperty, freeze, getOwnPropertyNames, getOwnPropertyDescriptor, getPrototypeOf } = Object;
const ObjectProto = Object.prototype;
const { isArray } = Array;
const { parse, stringify } = JSON;
const { isSafeInteger } = Number;
const finite = Number.isFinite;
const StringOf = String;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const PromiseCtor = Promise;
const MapCtor = Map;
const SetCtor = Set;
const ArrayBufferCtor = ArrayBuffer;
const U8 = Uint8Array;
const DataViewCtor = DataView;
const fnToString = Function.prototype.toString;
const isView = ArrayBuffer.isView;
const getter = (proto, key) => getOwnPropertyDescriptor(proto, key).get;
const TypedArrayProto = getPrototypeOf(U8.prototype);
const taTag = getter(TypedArrayProto, Symbol.toStringTag);
const taBuffer = getter(TypedArrayProto, 'buffer');
const taOffset = getter(TypedArrayProto, 'byteOffset');
const taLength = getter(TypedArrayProto, 'byteLength');
const dvBuffer = getter(DataViewCtor.prototype, 'buffer');
const dvOffset = getter(DataViewCtor.prototype, 'byteOffset');
const dvLength = getter(DataViewCtor.prototype, 'byteLength');
const abLength = getter(ArrayBufferCtor.prototype, 'byteLength');
const typedCtors = create(null);
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
  typedCtors[name] = g[name];
}
const MARK = '$mdx';
const MAX_DEPTH = 256;
const MAX_PENDING = 4096;
const MAX_LOGS_PER_ENTRY = 1000;
const MAX_TEXT = 8192;

// ---- values: copied out as JSON text plus fresh ArrayBuffers, never handed out by reference ----
function copyBytes(buffer, offset, length) {
  const out = new ArrayBufferCtor(length);
  new U8(out).set(new U8(buffer, offset, length));
  return out;
}
// Internal-slot getters decide what is binary; a Proxy or a look-alike object is not.
function binaryOf(v) {
  let length = -1;
  try { length = apply(abLength, v, []); } catch { length = -1; }
  if (length >= 0) return ['ArrayBuffer', copyBytes(v, 0, length)];
  if (!isView(v)) return undefined;
  const tag = apply(taTag, v, []);
  if (tag !== undefined) return [tag, copyBytes(apply(taBuffer, v, []), apply(taOffset, v, []), apply(taLength, v, []))];
  return ['DataView', copyBytes(apply(dvBuffer, v, []), apply(dvOffset, v, []), apply(dvLength, v, []))];
}
function encode(value) {
  const buffers = [];
  const ancestors = new SetCtor();
  function walk(v, depth) {
    const t = typeof v;
    if (t === 'string' || t === 'boolean') return v;
    if (t === 'number') return finite(v) ? v : null;
    if (v === null || t === 'undefined') return null;
    if (t !== 'object') {
      throw new TypeErrorCtor('a ' + t + ' cannot cross the sandbox boundary; pass JSON values, typed arrays or ArrayBuffers');
    }
    if (depth > MAX_DEPTH) throw new TypeErrorCtor('value nests deeper than ' + MAX_DEPTH + ' levels');
    const bin = binaryOf(v);
    if (bin !== undefined) {
      const m = create(null);
      m[MARK] = 'bytes';
      m.i = buffers.length;
      m.t = bin[0];
      buffers.push(bin[1]);
      return m;
    }
    if (ancestors.has(v)) throw new TypeErrorCtor('value contains a cycle; it cannot cross the sandbox boundary');
    ancestors.add(v);
    try {
      if (isArray(v)) {
        const n = v.length;
        if (!isSafeInteger(n) || n < 0) throw new TypeErrorCtor('array length is not a valid length');
        const out = [];
        for (let i = 0; i < n; i += 1) out.push(walk(v[i], depth + 1));
        return out;
      }
      const out = create(null);
      const ks = keys(v);
      for (let i = 0; i < ks.length; i += 1) {
        const k = ks[i];
        if (k === MARK) throw new TypeErrorCtor('objects may not use the key "' + MARK + '", which the wire format reserves');
        const x = v[k];
        if (x !== undefined) out[k] = walk(x, depth + 1);
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  }
  const json = stringify(walk(value, 0));
  return { json, buffers };
}
function decode(json, inputs) {
  function revive(v) {
    if (v === null || typeof v !== 'object') return v;
    if (isArray(v)) {
      for (let i = 0; i < v.length; i += 1) v[i] = revive(v[i]);
      return v;
    }
    if (typeof v[MARK] === 'string') {
      const buffer = inputs[v.i];
      if (buffer === undefined) throw new TypeErrorCtor('binary part ' + StringOf(v.i) + ' was not sent');
      if (v.t === 'ArrayBuffer') return buffer;
      if (v.t === 'DataView') return new DataViewCtor(buffer);
      const C = typedCtors[v.t];
      if (C === undefined) throw new TypeErrorCtor('unknown binary type ' + StringOf(v.t));
      return new C(buffer);
    }
    const ks = keys(v);
    for (let i = 0; i < ks.length; i += 1) {
      defineProperty(v, ks[i], { value: revive(v[ks[i]]), writable: true, enumerable: true, configurable: true });
    }
    return v;
  }
  return revive(parse(json));
}
// Thrown values become four strings, read here inside a timed entry, never by the host.
function describe(e) {
  let name = 'Error';
  let message = '';
  let stack = '';
  let code = '';
  try {
    if ((typeof e === 'object' && e !== null) || typeof e === 'function') {
      const n = e.name;
      if (typeof n === 'string') name = n;
      const m = e.message;
      message = typeof m === 'string' ? m : m === undefined ? '' : StringOf(m);
      try { stack = StringOf(getStackString(e)); } catch { stack = ''; }
      // An engine error's stable kind (ModularDiffusersError.code), so the host can tell them apart.
      const c = e.code;
      if (typeof c === 'string') code = c;
    } else {
      message = StringOf(e);
    }
  } catch {
    if (message === '') message = 'the value thrown inside the sandbox could not be read';
  }
  return { name: name.slice(0, 200), message: message.slice(0, MAX_TEXT), stack: stack.slice(0, 4 * MAX_TEXT), code: code.slice(0, 200) };
}

// ---- the outbox: everything the host learns, as JSON headers plus copied buffers ----
let outbox = [];
let outBuffers = [];
let logBudget = MAX_LOGS_PER_ENTRY;
function post(header, buffers) {
  header.nbuf = buffers.length;
  outbox.push(header);
  for (let i = 0; i < buffers.length; i += 1) outBuffers.push(buffers[i]);
}

// ---- capabilities: in-context promises, settled later by the host through the pump ----
const pendingCaps = new MapCtor();
let nextCapId = 1;
function callCapability(name, args) {
  return new PromiseCtor((resolve, reject) => {
    if (pendingCaps.size >= MAX_PENDING) throw new ErrorCtor('too many capability calls in flight (at most ' + MAX_PENDING + ')');
    const enc = encode(args);
    const id = nextCapId;
    nextCapId += 1;
    pendingCaps.set(id, { resolve, reject, name });
    post({ kind: 'capability', id, name, json: enc.json }, enc.buffers);
  });
}
function buildCapabilities(names) {
  const api = create(null);
  for (let i = 0; i < names.length; i += 1) {
    const name = StringOf(names[i]);
    api[name] = { [name](...args) { return callCapability(name, args); } }[name];
  }
  return harden(api);
}

// ---- logging: strings only ----
function logger(level) {
  return function log(...args) {
    let text = '';
    for (let i = 0; i < args.length && text.length <= MAX_TEXT; i += 1) {
      const a = args[i];
      let s;
      try { s = typeof a === 'string' ? a : StringOf(a); } catch { s = '[unprintable value]'; }
      text += (i > 0 ? ' ' : '') + s;
    }
    if (logBudget > 0) {
      logBudget -= 1;
      post({ kind: 'log', level, message: text.slice(0, MAX_TEXT) }, []);
    }
  };
}
const sandboxConsole = harden({
  log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug'),
});

// ---- libraries and the bundle's exports ----
const libraries = create(null);
let loadingLibrary = null;
let libraryDefined = false;
let sealed = false;
let bundleLoading = false;
let libraryView = null;
let exportsTable = null;
let manifestVersion = 0;
const instances = new MapCtor();
let nextHandle = 1;

function defineLibrary(name, value) {
  if (loadingLibrary === null) throw new ErrorCtor('defineLibrary() is only available while host libraries load');
  if (name !== loadingLibrary) {
    throw new ErrorCtor('library "' + loadingLibrary + '" called defineLibrary("' + StringOf(name) + '"); the names must match');
  }
  if (libraryDefined) throw new ErrorCtor('library "' + name + '" called defineLibrary() twice');
  libraries[name] = value;
  libraryDefined = true;
}
function defineBlocks(version, factory) {
  if (!bundleLoading) throw new ErrorCtor('defineBlocks() can only be called while the plugin bundle loads');
  if (exportsTable !== null) throw new ErrorCtor('defineBlocks() was already called; a bundle defines its exports once');
  if (version !== API_VERSION) {
    throw new ErrorCtor('this bundle targets sandbox API version ' + StringOf(version) + ' but this host runs version ' +
      API_VERSION + '; rebuild the plugin against a matching @modular-diffusers/hub');
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
  const table = create(null);
  const ks = keys(result);
  for (let i = 0; i < ks.length; i += 1) table[ks[i]] = result[ks[i]];
  exportsTable = table;
  manifestVersion = version;
}
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
function invoke(callId, target, method, mode, json, inputs) {
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
function isClass(f) {
  try { return /^class[\s{]/.test(apply(fnToString, f, [])); } catch { return false; }
}
function methodNames(v, type) {
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
    throw new ErrorCtor('the bundle never called defineBlocks(' + API_VERSION + ', factory); nothing was exported');
  }
  const list = [];
  const ks = keys(exportsTable);
  for (let i = 0; i < ks.length; i += 1) {
    const v = exportsTable[ks[i]];
    let type = 'value';
    if (typeof v === 'function') type = isClass(v) ? 'class' : 'function';
    else if (v !== null && typeof v === 'object') type = 'object';
    let methods = [];
    try { methods = methodNames(v, type); } catch { methods = []; }
    list.push({ name: ks[i], type, methods });
  }
  return stringify({ apiVersion: API_VERSION, manifestVersion, exports: list });
}

// ---- the pump: the only door the sandbox process uses; it reads its orders from the private port ----
const port = create(null);
let pendingInputs = [];
function pump() {
  const op = port.op;
  if (op === '' || op === undefined) return;
  port.op = '';
  port.status = 'ok';
  port.out = undefined;
  port.outBuffers = undefined;
  port.error = undefined;
  logBudget = MAX_LOGS_PER_ENTRY;
  try {
    switch (op) {
      case 'init':
        defineProperty(g, 'capabilities', { value: buildCapabilities(parse(port.a)), enumerable: false, writable: false });
        break;
      case 'begin-library':
        loadingLibrary = port.a;
        libraryDefined = false;
        break;
      case 'end-library': {
        const name = loadingLibrary;
        loadingLibrary = null;
        if (!libraryDefined) throw new ErrorCtor('library "' + name + '" did not call defineLibrary("' + name + '", exports)');
        break;
      }
      case 'seal':
        sealed = true;
        libraryView = freeze(libraries);
        defineProperty(g, 'modularLibraries', { value: libraryView, enumerable: false });
        freeze(g);
        break;
      case 'begin-bundle':
        if (!sealed) throw new ErrorCtor('the sandbox was not sealed before the bundle');
        bundleLoading = true;
        break;
      case 'finish-load':
        bundleLoading = false;
        port.out = manifest();
        break;
      case 'describe-caught': {
        const thrown = port.ref;
        port.ref = undefined;
        port.out = stringify(describe(thrown));
        break;
      }
      case 'alloc-inputs': {
        const sizes = parse(port.a);
        const list = [];
        for (let i = 0; i < sizes.length; i += 1) list.push(new ArrayBufferCtor(sizes[i]));
        pendingInputs = list;
        port.out = list;
        break;
      }
      case 'invoke': {
        const inputs = pendingInputs;
        pendingInputs = [];
        invoke(port.a, port.b, port.c, port.d, port.e, inputs);
        break;
      }
      case 'release':
        instances.delete(port.a);
        break;
      case 'settle': {
        const inputs = pendingInputs;
        pendingInputs = [];
        const pending = pendingCaps.get(port.a);
        if (pending === undefined) break;
        pendingCaps.delete(port.a);
        if (port.b === 'ok') {
          let value;
          try { value = decode(port.c, inputs); } catch (e) { pending.reject(e); break; }
          pending.resolve(value);
        } else {
          pending.reject(new ErrorCtor('capability "' + pending.name + '" failed: ' + StringOf(port.c)));
        }
        break;
      }
      case 'take-outbox':
        port.out = stringify(outbox);
        port.outBuffers = outBuffers;
        outbox = [];
        outBuffers = [];
        break;
      default:
        throw new ErrorCtor('unknown sandbox operation ' + StringOf(op));
    }
  } catch (e) {
    port.status = 'error';
    port.error = stringify(describe(e));
  }
}

defineProperty(g, '${PUMP_GLOBAL}', { value: harden(pump), enumerable: false });
defineProperty(g, 'defineLibrary', { value: harden(defineLibrary), enumerable: false, writable: false });
defineProperty(g, 'defineBlocks', { value: harden(defineBlocks), enumerable: false, writable: false });
defineProperty(g, 'console', { value: sandboxConsole, enumerable: false, writable: false });
port.op = '';
return port;
})()`;
