/**
 * What the host, the sandbox process's program (process-program/) and the in-context prelude
 * (prelude/) agree on: the API version, the pump's global name and the value wire format. One
 * definition for all three. The two programs never import this module at run time: their
 * `import { ... } from '../sandbox-protocol.js'` lines are there for the typechecker, and
 * assembleSandboxScript replaces them with `const` declarations of these values (see
 * assemble-sandbox-script.ts), so no host object ever reaches the sandbox.
 *
 * Only JSON-representable values (numbers, strings, arrays of strings) belong here, and no imports.
 */

/** Version of the in-sandbox API (`defineBlocks`, `capabilities`, `modularLibraries`); bundles pass it to `defineBlocks`. */
export const SANDBOX_API_VERSION = 1;

/** Name of the one global through which the sandbox process enters the context (harmless when the sandbox calls it). */
export const PUMP_GLOBAL = '__sandboxPump';

/** Key of the marker object that stands for a binary leaf; user objects may not use it. */
export const BINARY_MARKER_KEY = '$mdx';

/** Value of the marker key in a binary leaf's marker object (`{ $mdx: 'bytes', i, t }`). */
export const BINARY_MARKER_VALUE = 'bytes';

/** Deepest nesting a value may have to cross the boundary. */
export const MAX_VALUE_DEPTH = 256;

/** Typed array types a binary leaf may have besides `ArrayBuffer` and `DataView`. */
export const TYPED_ARRAY_NAMES = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

export type TypedArrayName = (typeof TYPED_ARRAY_NAMES)[number];
