import type { BuildOptions } from 'esbuild';

/**
 * The esbuild options every script the sandbox runs is built with: a plugin's bundle (the CLI's
 * `build`) and the host libraries (remote/sandbox-libraries.ts). Defined once because the two
 * must agree with what the sandbox evaluates; a bundle built otherwise fails there, or prints
 * differently from the same blocks on the host. Callers add their entry, resolution and plugins.
 *
 * Declared with `satisfies`, so the exported type is this literal object and the package's type
 * declarations do not refer to esbuild's.
 */
export const SANDBOX_BUNDLE_OPTIONS = {
  bundle: true,
  // The sandbox evaluates one classic script: no import or export may remain.
  format: 'iife',
  // Neither Node nor a browser: the context has the ECMAScript intrinsics and the sandbox API only.
  platform: 'neutral',
  // What every supported Node runs without down-levelling helpers.
  target: 'es2022',
  // Blocks print their class names; minifiers would rename them.
  keepNames: true,
  write: false,
  logLevel: 'silent',
  // A licence comment is text the static checks would read (an HTML-like comment token refuses the script).
  legalComments: 'none',
  charset: 'utf8',
  // The neutral platform has no default main fields; packages are found through these.
  mainFields: ['module', 'main'],
} as const satisfies BuildOptions;
