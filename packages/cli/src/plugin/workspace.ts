/** Where the monorepo and its pieces are, found from this package's own location. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The root of the workspace that holds a folder: the nearest package.json with `workspaces`, or null. */
export function findWorkspaceRoot(from: string): string | null {
  let dir = resolve(from);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const json = JSON.parse(readFileSync(file, 'utf8')) as { workspaces?: unknown };
        if (json.workspaces) return dir;
      } catch {
        // An unreadable package.json is not a workspace root; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** `templates/block-plugin`, beside this package in the monorepo (src/plugin or dist/plugin alike). */
export function defaultTemplateDir(): string {
  return resolve(here, '..', '..', '..', '..', 'templates', 'block-plugin');
}
