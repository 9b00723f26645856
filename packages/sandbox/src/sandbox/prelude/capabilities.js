// @ts-check
// Capabilities: in-context promises, settled later by the host through the pump.
import { encode, decode } from './codec.js';
import { post } from './outbox.js';
import { ErrorCtor, MAX_PENDING, MapCtor, PromiseCtor, StringOf, create, harden } from './realm.js';

/** @typedef {{ resolve: (value: unknown) => void, reject: (error: unknown) => void, name: string }} PendingCapability */

/** @type {Map<number, PendingCapability>} */
const pendingCaps = new MapCtor();
let nextCapId = 1;
/** @param {string} name @param {unknown[]} args @returns {Promise<unknown>} */
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
/** The `capabilities` global: one in-context function per name the host offers. @param {unknown[]} names */
export function buildCapabilities(names) {
  /** @type {Record<string, (...args: unknown[]) => Promise<unknown>>} */
  const api = create(null);
  for (let i = 0; i < names.length; i += 1) {
    const name = StringOf(names[i]);
    /** @type {Record<string, (...args: unknown[]) => Promise<unknown>>} */
    const named = { [name](...args) { return callCapability(name, args); } };
    api[name] = named[name];
  }
  return harden(api);
}
/**
 * Settles the capability call `id` with the host's answer: `text` is the result's JSON (`ok`) or
 * the failure's message. An id that is not pending is ignored.
 * @param {number} id @param {boolean} ok @param {string} text @param {ArrayBuffer[]} inputs
 */
export function settleCapability(id, ok, text, inputs) {
  const pending = pendingCaps.get(id);
  if (pending === undefined) return;
  pendingCaps.delete(id);
  if (ok) {
    let value;
    try { value = decode(text, inputs); } catch (e) { pending.reject(e); return; }
    pending.resolve(value);
  } else {
    pending.reject(new ErrorCtor('capability "' + pending.name + '" failed: ' + StringOf(text)));
  }
}
