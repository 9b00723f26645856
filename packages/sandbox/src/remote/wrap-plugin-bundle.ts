import { REMOTE_DRIVER_LIBRARY } from './remote-protocol.js';

/**
 * Wraps a plugin bundle so the remote driver sees its exports: inside the
 * wrapper, `defineBlocks` is the driver's recorder; after the bundle ran, the
 * driver calls the sandbox's real `defineBlocks` with the plugin's exports
 * plus its own API (`@remote`). The prefix shares the bundle's first line, so
 * line numbers in the plugin's stack traces are unchanged.
 *
 * This is plumbing, not a boundary: a bundle that breaks out of the wrapper
 * only reaches the same sandbox, and the host treats everything it answers as
 * untrusted data either way.
 */
export function wrapPluginBundle(source: string): string {
  if (typeof source !== 'string') throw new TypeError('wrapPluginBundle(source): source must be a string');
  // A hashbang is only valid at the very start of a script; keep the line, drop the directive.
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  const driver = `modularLibraries[${JSON.stringify(REMOTE_DRIVER_LIBRARY)}]`;
  return `(function (defineBlocks) {${body}\n})(${driver}.captureDefineBlocks());\n${driver}.exportTo(defineBlocks);\n`;
}
