// @ts-check
// The way into the vm context: timed entries, and the pump operations run through the prelude's
// private port (see prelude/pump.js).
//
// Discipline (see SECURITY.md): this code never reads a property of, calls, awaits, inspects or
// stringifies a value that came out of the context, except the private port object and the strings
// and ArrayBuffers it holds, each checked with typeof / util.types first. It enters the context
// only through timed `script.runInContext` calls, so every run of plugin code, including the promise
// jobs drained after it (microtaskMode 'afterEvaluate'), is bounded by `timeoutMs`.
import { PUMP_GLOBAL } from '../sandbox-protocol.js';
import { Fatal, LoadFailure, isOwnRealmError, types, vm } from './realm.js';

/** @import * as NodeVm from 'node:vm' */
/**
 * The prelude's port; every field read from it is checked before use.
 * @typedef {Record<string, unknown>} Port
 */

/** @type {NodeVm.Context | null} */
let ctx = null;
/** @type {Port} */
export let port = /** @type {Port} */ (/** @type {unknown} */ (null));
/** @type {number} */ let timeoutMs;
/** @type {number} */ let externalMemoryBytes;
const pumpScript = new vm.Script(PUMP_GLOBAL + '()', { filename: 'sandbox:pump' });

/** Creates the context every later entry runs in, with the budgets of each entry and of ArrayBuffer memory. @param {number} entryMs @param {number} memoryBytes */
export function openContext(entryMs, memoryBytes) {
  timeoutMs = entryMs;
  externalMemoryBytes = memoryBytes;
  /** @type {NodeVm.CreateContextOptions} */
  const options = { name: 'sandbox', codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' };
  ctx = vm.constants && vm.constants.DONT_CONTEXTIFY !== undefined
    ? vm.createContext(vm.constants.DONT_CONTEXTIFY, options)
    : vm.createContext(Object.create(null), options);
}

/** The prelude's completion value becomes the port; anything but a plain object is refused. @param {{ failed: boolean, value: unknown }} p */
export function adoptPort(p) {
  if (p.failed || p.value === null || typeof p.value !== 'object' || types.isProxy(p.value)) {
    throw new Fatal('crashed', 'the sandbox prelude failed to initialise');
  }
  port = /** @type {Port} */ (p.value);
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
export function enter(script, limitMs = timeoutMs) {
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
export function readPortString(key) {
  const v = port[key];
  if (typeof v !== 'string') throw new Fatal('crashed', 'sandbox protocol violated (port.' + key + ' is not a string)');
  return v;
}

/**
 * Runs one pump operation; `error` is the prelude's description of what the operation threw, or null.
 * @param {string} name
 * @param {{ a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown }} [fields]
 * @returns {{ error: any }}
 */
export function op(name, fields) {
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
export function evaluate(source, filename, limitMs = timeoutMs) {
  let script;
  try {
    script = new vm.Script(source, { filename });
  } catch (e) {
    const error = /** @type {Error} */ (e);
    throw new LoadFailure({ name: String(error.name), message: String(error.message), stack: String(error.stack), code: '' });
  }
  const r = enter(script, limitMs);
  if (!r.failed) return;
  port.ref = r.value;
  const d = op('describe-caught');
  if (d.error) throw new LoadFailure(d.error);
  throw new LoadFailure(JSON.parse(readPortString('out')));
}
