// @ts-check
// The program each sandbox process runs (`node <permission flags> -e <this text>`, see
// sandbox-process.ts), from realm.js, context.js, transfer.js and this file, in that order.
//
// It talks to the host over the IPC channel only. The first message is `load` (SES, the prelude,
// the libraries, the bundle, the limits); after that the host sends `call`, `settle` and
// `release`, and the process answers each entry with ONE `batch` of what the sandbox queued
// (capability requests, returns, log lines), or `fatal`.
import { adoptPort, enter, evaluate, op, openContext, readPortString } from './context.js';
import { Fatal, LoadFailure, isOwnRealmError, vm } from './realm.js';
import { drain, send, sendInputs } from './transfer.js';

const STARTUP_MS = 20000;
/**
 * The `load` message (see create-sandbox.ts).
 * @typedef {{
 *   sesSource: string, prelude: string, libraries: { name: string, source: string, filename: string }[],
 *   bundle: { source: string, filename: string }, capabilityNames: string[], timeoutMs: number, externalMemoryBytes: number,
 * }} LoadMessage
 */

// A rejection reason may be a sandbox object; never let Node format or inspect it.
process.on('unhandledRejection', () => {});
// The host is gone (exited, crashed or closed the channel): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

let dead = false;
let loaded = false;

/** @param {LoadMessage} m */
function load(m) {
  const { sesSource, prelude, libraries, bundle, capabilityNames, timeoutMs, externalMemoryBytes } = m;
  openContext(timeoutMs, externalMemoryBytes);
  // Trusted start-up code gets a fixed, generous slice: it is ours, and slow only on a loaded machine.
  if (enter(new vm.Script(sesSource, { filename: 'ses.umd.js' }), STARTUP_MS).failed) throw new Fatal('crashed', 'SES failed to initialise');
  adoptPort(enter(new vm.Script(prelude, { filename: 'sandbox:prelude' }), STARTUP_MS));
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
