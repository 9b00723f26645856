import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/**
 * The SES shim as one classic script (its UMD build), evaluated inside each sandbox context so that
 * lockdown() freezes the context's intrinsics and never the host's.
 */
export function sesSource(): string {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    // Resolve through package.json: the entry point differs by export condition, the UMD build does not.
    const root = dirname(require.resolve('ses/package.json'));
    cached = readFileSync(join(root, 'dist', 'ses.umd.min.js'), 'utf8');
  }
  return cached;
}
