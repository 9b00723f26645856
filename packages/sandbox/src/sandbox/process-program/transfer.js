// @ts-check
// What crosses between the host's IPC channel and the context: the outbox, drained after each
// entry as one batch, and the host's buffers, copied into fresh context ArrayBuffers.
import { op, port, readPortString } from './context.js';
import { Fatal, types } from './realm.js';

/** @param {unknown} message */
export function send(message) {
  if (process.connected) /** @type {NonNullable<typeof process.send>} */ (process.send)(message);
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
export function drain() {
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
export function sendInputs(buffers) {
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
