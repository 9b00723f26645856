import { readFileSync } from 'node:fs';
import * as protocol from './sandbox-protocol.js';

/**
 * Joins the files of a program that runs inside the sandbox (prelude/ or process-program/) into
 * the one script text the sandbox evaluates.
 *
 * The files are `// @ts-check` JavaScript, written as ES modules only so that `tsc` checks each
 * name one file uses from another (see the tsconfig.json next to them). What runs is their text
 * as written, in the order given, with no transpiler in between (nothing can inject a helper),
 * changed in two ways only:
 * - an `import { a, b } from './part.js';` of another part is dropped: the parts share one scope;
 * - an `import { A } from '../sandbox-protocol.js';` becomes `const A = <value>;`, the value
 *   written out as a JSON literal, so host and sandbox share one definition of the wire format
 *   while no host module or object is ever reachable inside the sandbox;
 * and `export ` is dropped from the front of a declaration. Any other `import` or `export` is
 * refused, so the text stays one a reader can check by eye against the files.
 */
export function assembleSandboxScript(folder: URL, parts: readonly string[]): string {
  const constants = new Map<string, string>();
  const bodies = parts.map((part) => {
    const text = readFileSync(new URL(part, folder), 'utf8');
    const body = text
      .replace(IMPORT, (_statement, names: string, specifier: string) => {
        if (specifier === PROTOCOL) {
          for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) constants.set(name, protocolConstant(name, part));
        } else if (!(specifier.startsWith('./') && parts.includes(specifier.slice(2)))) {
          throw new Error(`${folderName(folder)}${part} imports ${specifier}; a sandbox program may import only its own parts (${parts.join(', ')}) and ${PROTOCOL}`);
        }
        return '';
      })
      .replace(EXPORTED_DECLARATION, '$1');
    const stray = STRAY_MODULE_SYNTAX.exec(body);
    if (stray) {
      throw new Error(`${folderName(folder)}${part} has "${stray[0]}": write imports as one \`import { ... } from '...';\` and exports as \`export const|let|function|class\``);
    }
    return body;
  });
  const declarations = [...constants].map(([name, literal]) => `const ${name} = ${literal};`).join('\n');
  return `${declarations}\n${bodies.join('\n')}`;
}

const PROTOCOL = '../sandbox-protocol.js';
const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'([^']*)';[ \t]*$/gm;
const EXPORTED_DECLARATION = /^export (const|let|function|class)\b/gm;
const STRAY_MODULE_SYNTAX = /^(import|export)\b.*$/m;

function protocolConstant(name: string, part: string): string {
  const value: unknown = Object.hasOwn(protocol, name) ? (protocol as Record<string, unknown>)[name] : undefined;
  const isPlain = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  if (!(isPlain(value) || (Array.isArray(value) && value.every(isPlain)))) {
    throw new Error(`${part} imports ${name} from ${PROTOCOL}, which exports no string, number or array of them by that name`);
  }
  return JSON.stringify(value);
}

function folderName(folder: URL): string {
  return `${folder.pathname.split('/').filter(Boolean).pop() ?? ''}/`;
}
