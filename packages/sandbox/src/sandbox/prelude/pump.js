// @ts-check
// The pump: the only door the sandbox process uses. It reads its orders from the private port,
// the object this prelude's script evaluates to (assembleSandboxScript ends the script with
// `return port;`), and writes the answer back there: strings, and ArrayBuffers made in this realm.
import { beginBundle, defineBlocks, finishLoad, invoke, releaseInstance } from './bundle.js';
import { buildCapabilities, settleCapability } from './capabilities.js';
import { describe } from './codec.js';
import { sandboxConsole } from './console.js';
import { beginLibrary, defineLibrary, endLibrary, sealLibraries } from './libraries.js';
import { resetLogBudget, takeOutbox } from './outbox.js';
import { PUMP_GLOBAL } from '../sandbox-protocol.js';
import { ArrayBufferCtor, ErrorCtor, StringOf, create, defineProperty, freeze, g, harden, parse, stringify } from './realm.js';

/**
 * Written by the sandbox process (trusted code): `op` names the operation, `a`..`e` are its
 * arguments (strings and numbers, as each operation documents in process-program/), `ref` a value
 * caught from the context; the pump answers in `status`, `out`, `outBuffers` and `error`.
 * @typedef {{
 *   op?: string, a?: any, b?: any, c?: any, d?: any, e?: any, ref?: unknown,
 *   status?: 'ok' | 'error', out?: unknown, outBuffers?: ArrayBuffer[], error?: string,
 * }} Port
 */

/** @type {Port} */
export const port = create(null);
/** @type {ArrayBuffer[]} */
let pendingInputs = [];
function pump() {
  const op = port.op;
  if (op === '' || op === undefined) return;
  port.op = '';
  port.status = 'ok';
  port.out = undefined;
  port.outBuffers = undefined;
  port.error = undefined;
  resetLogBudget();
  try {
    switch (op) {
      case 'init':
        defineProperty(g, 'capabilities', { value: buildCapabilities(parse(port.a)), enumerable: false, writable: false });
        break;
      case 'begin-library':
        beginLibrary(port.a);
        break;
      case 'end-library':
        endLibrary();
        break;
      case 'seal':
        defineProperty(g, 'modularLibraries', { value: sealLibraries(), enumerable: false });
        freeze(g);
        break;
      case 'begin-bundle':
        beginBundle();
        break;
      case 'finish-load':
        port.out = finishLoad();
        break;
      case 'describe-caught': {
        const thrown = port.ref;
        port.ref = undefined;
        port.out = stringify(describe(thrown));
        break;
      }
      case 'alloc-inputs': {
        /** @type {number[]} */
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
        releaseInstance(port.a);
        break;
      case 'settle': {
        const inputs = pendingInputs;
        pendingInputs = [];
        settleCapability(port.a, port.b === 'ok', port.c, inputs);
        break;
      }
      case 'take-outbox': {
        const taken = takeOutbox();
        port.out = taken[0];
        port.outBuffers = taken[1];
        break;
      }
      default:
        throw new ErrorCtor('unknown sandbox operation ' + StringOf(op));
    }
  } catch (e) {
    port.status = 'error';
    port.error = stringify(describe(e));
  }
}

defineProperty(g, PUMP_GLOBAL, { value: harden(pump), enumerable: false });
defineProperty(g, 'defineLibrary', { value: harden(defineLibrary), enumerable: false, writable: false });
defineProperty(g, 'defineBlocks', { value: harden(defineBlocks), enumerable: false, writable: false });
defineProperty(g, 'console', { value: sandboxConsole, enumerable: false, writable: false });
port.op = '';
