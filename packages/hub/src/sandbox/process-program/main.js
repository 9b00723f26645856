// @ts-check
// The program each sandbox process runs (`node <permission flags> -e <this text>`, see
// sandbox-process.ts): a CommonJS script in the process's own realm, outside the vm context.
//
// It talks to the host over the IPC channel only. The first message is `load` (SES, the prelude,
// the libraries, the bundle, the limits); after that the host sends `call`, `settle` and
// `release`, and the process answers each entry with ONE `batch` of what the sandbox queued
// (capability requests, returns, log lines), or `fatal`.
//
// Discipline (see SECURITY.md): this code never reads a property of, calls, awaits, inspects or
// stringifies a value that came out of the context, except the private port object and the strings
// and ArrayBuffers it holds, each checked with typeof / util.types first. It enters the context
// only through timed `script.runInContext` calls, so every run of plugin code, including the promise
// jobs drained after it (microtaskMode 'afterEvaluate'), is bounded by `timeoutMs`.
/** @import * as NodeVm from 'node:vm' */
/** @import * as NodeUtil from 'node:util' */
import { PUMP_GLOBAL } from '../sandbox-protocol.js';
/** @type {typeof NodeVm} */
const vm = require('node:vm');
/** @type {typeof NodeUtil} */
const { types } = require('node:util');

const WorkerError = Error;
const STARTUP_MS = 20000;
/**
 * The `load` message (see create-sandbox.ts).
 * @typedef {{
 *   sesSource: string, prelude: string, libraries: { name: string, source: string, filename: string }[],
 *   bundle: { source: string, filename: string }, capabilityNames: string[], timeoutMs: number, externalMemoryBytes: number,
 * }} LoadMessage
 */
/** @type {string} */ let sesSource;
/** @type {string} */ let prelude;
/** @type {LoadMessage['libraries']} */ let libraries;
/** @type {LoadMessage['bundle']} */ let bundle;
/** @type {string[]} */ let capabilityNames;
/** @type {number} */ let timeoutMs;
/** @type {number} */ let externalMemoryBytes;

// A rejection reason may be a sandbox object; never let Node format or inspect it.
process.on('unhandledRejection', () => {});
// The host is gone (exited, crashed or closed the channel): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

class Fatal {
  /** @param {'timeout' | 'memory' | 'crashed'} kind @param {string} message */
  constructor(kind, message) { this.kind = kind; this.message = message; }
}
class LoadFailure {
  /** @param {unknown} error */
  constructor(error) { this.error = error; }
}

/**
 * The prelude's port (see prelude/pump.js); every field read from it is checked before use.
 * @typedef {Record<string, unknown>} Port
 */
/** @type {NodeVm.Context | null} */
let ctx = null;
/** @type {Port} */
let port = /** @type {Port} */ (/** @type {unknown} */ (null));
let dead = false;
let loaded = false;
const pumpScript = new vm.Script(PUMP_GLOBAL + '()', { filename: 'sandbox:pump' });

/** @param {unknown} message */
function send(message) {
  if (process.connected) /** @type {NonNullable<typeof process.send>} */ (process.send)(message);
}

/** @param {unknown} e @returns {e is Error} */
function isOwnRealmError(e) {
  if (e === null || typeof e !== 'object' || types.isProxy(e)) return false;
  let p = Object.getPrototypeOf(e);
  while (p !== null) {
    if (p === WorkerError.prototype) return true;
    if (types.isProxy(p)) return false;
    p = Object.getPrototypeOf(p);
  }
  return false;
}

function checkMemory() {
  // This process holds nothing but the sandbox, so its ArrayBuffer total is the plugin's.
  const used = process.memoryUsage().arrayBuffers;
  if (used > externalMemoryBytes) {
    throw new Fatal('memory', 'ArrayBuffers held ' + Math.round(used / 1048576) + ' MiB, over the ' +
      Math.round(externalMemoryBytes / 1048576) + ' MiB limit');
  }
}

// The one way into the context. Returns { failed, value } where value is opaque unless the caller
// knows what trusted code produced it.
/** @param {NodeVm.Script} script @returns {{ failed: boolean, value: unknown }} */
function enter(script, limitMs = timeoutMs) {
  let failed = false;
  let value;
  const began = performance.now();
  try {
    value = script.runInContext(/** @type {NodeVm.Context} */ (ctx), { timeout: limitMs, displayErrors: false, breakOnSigint: false });
  } catch (e) {
    failed = true;
    value = e;
  }
  checkMemory();
  // Node creates the timeout error inside the context, so it is recognised by the clock, not by reading it.
  if (failed && performance.now() - began >= limitMs - 5) {
    throw new Fatal('timeout', 'a sandbox entry ran past ' + limitMs + ' ms');
  }
  if (failed && isOwnRealmError(value)) {
    throw new Fatal('crashed', 'the sandbox entry failed: ' + String(value.message));
  }
  return { failed, value };
}

/** @param {string} key @returns {string} */
function readPortString(key) {
  const v = port[key];
  if (typeof v !== 'string') throw new Fatal('crashed', 'sandbox protocol violated (port.' + key + ' is not a string)');
  return v;
}

/**
 * @param {string} name
 * @param {{ a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown }} [fields]
 * @returns {{ error: any }}
 */
function op(name, fields) {
  port.op = name;
  port.a = fields && fields.a;
  port.b = fields && fields.b;
  port.c = fields && fields.c;
  port.d = fields && fields.d;
  port.e = fields && fields.e;
  const r = enter(pumpScript);
  port.a = port.b = port.c = port.d = port.e = undefined;
  if (r.failed) throw new Fatal('crashed', 'the sandbox pump threw');
  const status = port.status;
  if (status === 'error') return { error: JSON.parse(readPortString('error')) };
  if (status !== 'ok') throw new Fatal('crashed', 'sandbox protocol violated (bad status)');
  return { error: null };
}

// Runs untrusted or library source. A thrown context value is described inside the context.
/** @param {string} source @param {string} filename */
function evaluate(source, filename, limitMs = timeoutMs) {
  let script;
  try {
    script = new vm.Script(source, { filename });
  } catch (e) {
    const error = /** @type {Error} */ (e);
    throw new LoadFailure({ name: String(error.name), message: String(error.message), stack: String(error.stack) });
  }
  const r = enter(script, limitMs);
  if (!r.failed) return;
  port.ref = r.value;
  const d = op('describe-caught');
  if (d.error) throw new LoadFailure(d.error);
  throw new LoadFailure(JSON.parse(readPortString('out')));
}

// The outbox buffers are fresh copies the prelude made of the plugin's data, reachable from no plugin
// code. They go to the host as they are: the IPC channel serializes their bytes (V8's serializer reads
// an ArrayBuffer's bytes without running code), so copying them again here would only cost time.
/** @param {unknown} ab */
function checkedOut(ab) {
  if (!types.isArrayBuffer(ab) || types.isProxy(ab)) throw new Fatal('crashed', 'sandbox protocol violated (expected an ArrayBuffer)');
  return ab;
}

// Sends everything the sandbox queued during the last entry (capability requests, returns, logs) to
// the host as one batch, in the order it was queued.
function drain() {
  const items = [];
  for (let round = 0; round < 4; round += 1) {
    const r = op('take-outbox');
    if (r.error) throw new Fatal('crashed', 'the sandbox outbox failed: ' + r.error.message);
    /** @type {any[]} */
    const headers = JSON.parse(readPortString('out'));
    const list = port.outBuffers;
    port.outBuffers = undefined;
    if (!Array.isArray(list) || types.isProxy(list)) throw new Fatal('crashed', 'sandbox protocol violated (buffers)');
    const buffers = [];
    for (let i = 0; i < list.length; i += 1) buffers.push(checkedOut(list[i]));
    if (headers.length === 0) break;
    let next = 0;
    for (const h of headers) {
      const own = buffers.slice(next, next + h.nbuf);
      next += h.nbuf;
      if (h.kind === 'capability') items.push({ kind: 'capability', id: h.id, name: h.name, json: h.json, buffers: own });
      else if (h.kind === 'return') items.push({ kind: 'return', id: h.id, ok: h.ok, json: h.json, error: h.error, buffers: own });
      else if (h.kind === 'log') items.push({ kind: 'log', level: h.level, message: h.message });
    }
  }
  if (items.length > 0) send({ type: 'batch', items });
}

// Copies host buffers into fresh context ArrayBuffers that the next pump operation consumes.
/** @param {unknown} buffers */
function sendInputs(buffers) {
  if (!Array.isArray(buffers) || !buffers.every((b) => types.isArrayBuffer(b))) {
    throw new Fatal('crashed', 'the host sent a malformed message');
  }
  const sizes = buffers.map((b) => b.byteLength);
  const r = op('alloc-inputs', { a: JSON.stringify(sizes) });
  if (r.error) throw new Fatal('crashed', 'could not allocate sandbox inputs: ' + r.error.message);
  const list = port.out;
  port.out = undefined;
  if (!Array.isArray(list) || types.isProxy(list) || list.length !== buffers.length) {
    throw new Fatal('crashed', 'sandbox protocol violated (inputs)');
  }
  for (let i = 0; i < buffers.length; i += 1) {
    const target = list[i];
    if (!types.isArrayBuffer(target) || target.byteLength !== buffers[i].byteLength) {
      throw new Fatal('crashed', 'sandbox protocol violated (input buffer)');
    }
    new Uint8Array(target).set(new Uint8Array(buffers[i]));
  }
}

/** @param {LoadMessage} m */
function load(m) {
  ({ sesSource, prelude, libraries, bundle, capabilityNames, timeoutMs, externalMemoryBytes } = m);
  /** @type {NodeVm.CreateContextOptions} */
  const options = { name: 'sandbox', codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' };
  ctx = vm.constants && vm.constants.DONT_CONTEXTIFY !== undefined
    ? vm.createContext(vm.constants.DONT_CONTEXTIFY, options)
    : vm.createContext(Object.create(null), options);
  // Trusted start-up code gets a fixed, generous slice: it is ours, and slow only on a loaded machine.
  if (enter(new vm.Script(sesSource, { filename: 'ses.umd.js' }), STARTUP_MS).failed) throw new Fatal('crashed', 'SES failed to initialise');
  const p = enter(new vm.Script(prelude, { filename: 'sandbox:prelude' }), STARTUP_MS);
  if (p.failed || p.value === null || typeof p.value !== 'object' || types.isProxy(p.value)) {
    throw new Fatal('crashed', 'the sandbox prelude failed to initialise');
  }
  port = /** @type {Port} */ (p.value);
  const init = op('init', { a: JSON.stringify(capabilityNames) });
  if (init.error) throw new Fatal('crashed', 'could not install capabilities: ' + init.error.message);
  for (const lib of libraries) {
    op('begin-library', { a: lib.name });
    // Host libraries are ours, like SES: a slow machine must not fail them on the plugin's slice.
    evaluate(lib.source, lib.filename, Math.max(timeoutMs, STARTUP_MS));
    const end = op('end-library');
    if (end.error) throw new LoadFailure(end.error);
  }
  const seal = op('seal');
  if (seal.error) throw new Fatal('crashed', 'could not seal the sandbox: ' + seal.error.message);
  op('begin-bundle');
  evaluate(bundle.source, bundle.filename);
  const done = op('finish-load');
  if (done.error) throw new LoadFailure(done.error);
  const manifest = readPortString('out');
  drain();
  send({ type: 'ready', manifest, rss: process.memoryUsage.rss() });
}

/** @param {any} m */
function handle(m) {
  if (m === null || typeof m !== 'object') throw new Fatal('crashed', 'the host sent a malformed message');
  if (!loaded) {
    if (m.type !== 'load') throw new Fatal('crashed', 'the host sent ' + String(m.type) + ' before load');
    loaded = true;
    load(m);
    return;
  }
  if (m.type === 'call') {
    sendInputs(m.buffers);
    const r = op('invoke', { a: m.id, b: m.target, c: m.method, d: m.mode, e: m.json });
    if (r.error) send({ type: 'batch', items: [{ kind: 'return', id: m.id, ok: false, error: r.error, buffers: [] }] });
  } else if (m.type === 'settle') {
    sendInputs(m.ok ? m.buffers : []);
    op('settle', { a: m.id, b: m.ok ? 'ok' : 'error', c: m.ok ? m.json : m.message });
  } else if (m.type === 'release') {
    op('release', { a: m.target });
  }
  drain();
}

/** @param {unknown} e */
function die(e) {
  dead = true;
  if (e instanceof Fatal) send({ type: 'fatal', kind: e.kind, message: e.message });
  else if (e instanceof LoadFailure) send({ type: 'load-error', error: e.error });
  else send({ type: 'fatal', kind: 'crashed', message: 'sandbox process failed: ' + (isOwnRealmError(e) ? String(e.message) : 'unknown error') });
}

process.on('message', (m) => {
  if (dead) return;
  try { handle(m); } catch (e) { die(e); }
});
