// @ts-check
// The outbox: everything the host learns, as JSON headers plus copied buffers, taken by the
// sandbox process after each entry.
import { MAX_LOGS_PER_ENTRY, stringify } from './realm.js';

/** @typedef {Record<string, unknown> & { kind: string }} Header */

/** @type {Header[]} */
let outbox = [];
/** @type {ArrayBuffer[]} */
let outBuffers = [];
let logBudget = MAX_LOGS_PER_ENTRY;

/** @param {Header} header @param {ArrayBuffer[]} buffers */
export function post(header, buffers) {
  header.nbuf = buffers.length;
  outbox.push(header);
  for (let i = 0; i < buffers.length; i += 1) outBuffers.push(buffers[i]);
}
/** Empties the outbox: its headers as one JSON text, and its buffers. @returns {[string, ArrayBuffer[]]} */
export function takeOutbox() {
  const taken = /** @type {[string, ArrayBuffer[]]} */ ([stringify(outbox), outBuffers]);
  outbox = [];
  outBuffers = [];
  return taken;
}
// Each entry into the context may log this many lines; the rest are dropped.
export function resetLogBudget() {
  logBudget = MAX_LOGS_PER_ENTRY;
}
/** True, and one line fewer left, while this entry may still log. */
export function spendLogLine() {
  if (logBudget <= 0) return false;
  logBudget -= 1;
  return true;
}
