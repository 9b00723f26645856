// @ts-check
// First part of the sandbox process's program: what it takes from Node.js, and how it fails.
// The program is a CommonJS script run by `node -e` in the process's own realm, outside the vm
// context (see sandbox-process.ts); main.js says what it does.
/** @import * as NodeVm from 'node:vm' */
/** @import * as NodeUtil from 'node:util' */

/** @type {typeof NodeVm} */
export const vm = require('node:vm');
/** @type {typeof NodeUtil} */
export const { types } = require('node:util');

const WorkerError = Error;

/** Stops the sandbox; the host is told its kind. */
export class Fatal {
  /** @param {'timeout' | 'memory' | 'crashed'} kind @param {string} message */
  constructor(kind, message) { this.kind = kind; this.message = message; }
}
/** A load error of the code the host sent (as described inside the context). */
export class LoadFailure {
  /** @param {unknown} error */
  constructor(error) { this.error = error; }
}

/** @param {unknown} e @returns {e is Error} */
export function isOwnRealmError(e) {
  if (e === null || typeof e !== 'object' || types.isProxy(e)) return false;
  let p = Object.getPrototypeOf(e);
  while (p !== null) {
    if (p === WorkerError.prototype) return true;
    if (types.isProxy(p)) return false;
    p = Object.getPrototypeOf(p);
  }
  return false;
}
