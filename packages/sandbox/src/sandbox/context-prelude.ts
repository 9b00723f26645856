import { assembleSandboxScript } from './assemble-sandbox-script.js';

export { PUMP_GLOBAL, SANDBOX_API_VERSION } from './sandbox-protocol.js';

/** The prelude's files (prelude/), in the order they run; pump.js declares the port. */
const PRELUDE_PARTS = ['realm.js', 'codec.js', 'outbox.js', 'capabilities.js', 'console.js', 'libraries.js', 'bundle.js', 'pump.js'] as const;

let cached: string | undefined;

/**
 * Trusted code evaluated inside the vm context right after SES. It locks the realm down, removes
 * what must not be reachable, and builds the whole sandbox API from context-realm functions, so no
 * host function or object is ever reachable from plugin code. Its completion value is the private
 * "port" object through which the sandbox process and `__sandboxPump()` exchange strings and byte buffers.
 *
 * The code lives in prelude/ as `// @ts-check` JavaScript, split by concern (realm, codec, outbox,
 * capabilities, console, libraries, bundle, pump), typechecked by the package's typecheck script
 * and copied next to dist by its build. It is read as text, never imported and never run through
 * a transpiler or coverage tool (which could inject host helpers into it): see assemble-sandbox-script.ts.
 */
export function contextPreludeSource(): string {
  cached ??= `(() => {\n'use strict';\n${assembleSandboxScript(new URL('./prelude/', import.meta.url), PRELUDE_PARTS)}\nreturn port;\n})()`;
  return cached;
}
