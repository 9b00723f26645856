// @ts-check
// Host libraries: each one, while it loads, calls defineLibrary(name, exports) once; sealing
// freezes them into the `modularLibraries` view the bundle's factory receives.
import { ErrorCtor, StringOf, create, freeze } from './realm.js';

/** @type {Record<string, unknown>} */
const libraries = create(null);
/** @type {string | null} */
let loadingLibrary = null;
let libraryDefined = false;
export let sealed = false;
/** @type {Readonly<Record<string, unknown>> | null} */
export let libraryView = null;

/** @param {string} name @param {unknown} value */
export function defineLibrary(name, value) {
  if (loadingLibrary === null) throw new ErrorCtor('defineLibrary() is only available while host libraries load');
  if (name !== loadingLibrary) {
    throw new ErrorCtor('library "' + loadingLibrary + '" called defineLibrary("' + StringOf(name) + '"); the names must match');
  }
  if (libraryDefined) throw new ErrorCtor('library "' + name + '" called defineLibrary() twice');
  libraries[name] = value;
  libraryDefined = true;
}
/** @param {string} name */
export function beginLibrary(name) {
  loadingLibrary = name;
  libraryDefined = false;
}
export function endLibrary() {
  const name = loadingLibrary;
  loadingLibrary = null;
  if (!libraryDefined) throw new ErrorCtor('library "' + name + '" did not call defineLibrary("' + name + '", exports)');
}
/** Ends the library phase; returns the frozen view of what the libraries defined. */
export function sealLibraries() {
  sealed = true;
  libraryView = freeze(libraries);
  return libraryView;
}
