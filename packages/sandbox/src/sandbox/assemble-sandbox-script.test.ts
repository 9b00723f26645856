import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { afterAll, describe, expect, test } from 'vitest';
import { assembleSandboxScript } from './assemble-sandbox-script.js';
import { checkSandboxSource } from './check-sandbox-source.js';
import { contextPreludeSource } from './context-prelude.js';
import { sandboxProcessSource } from './sandbox-process-source.js';
import { BINARY_MARKER_KEY, MAX_VALUE_DEPTH, PUMP_GLOBAL, SANDBOX_API_VERSION, TYPED_ARRAY_NAMES } from './sandbox-protocol.js';

const scratch = mkdtempSync(join(tmpdir(), 'assemble-sandbox-script-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function folderWith(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(scratch, 'parts-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return pathToFileURL(`${dir}/`);
}

describe('the sandbox programs as assembled from their files', () => {
  const programs = [
    ['the context prelude', contextPreludeSource(), 'prelude'],
    ['the sandbox process program', sandboxProcessSource(), 'process-program'],
  ] as const;

  test.each(programs)('%s passes the static checks plugin code must pass', (_, source) => {
    // It runs where plugin code runs (the prelude inside the context): a dynamic import there would be a way out.
    expect(() => checkSandboxSource(source, 'program.js')).not.toThrow();
  });

  test.each(programs)('%s compiles as one classic script, with no module syntax left', (_, source) => {
    expect(() => new Script(source)).not.toThrow();
    expect(source).not.toMatch(/^(import|export)\b/m);
    expect(source.startsWith("'use strict';") || source.startsWith("(() => {\n'use strict';")).toBe(true);
  });

  test.each(programs)('%s holds every statement of its files as written', (_, source, folder) => {
    const dir = new URL(`./${folder}/`, import.meta.url);
    const files = readdirSync(dir).filter((name) => name.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      const lines = text.split('\n').filter((line) => line.trim() !== '' && !/^import\b|^\s+[\w, ]+$|^\}\s+from\b/.test(line));
      for (const line of lines) expect(source, `${folder}/${name}: ${line}`).toContain(line.replace(/^export /, ''));
    }
  });

  test('the wire format constants arrive with the host values', () => {
    const prelude = contextPreludeSource();
    expect(prelude).toContain(`const BINARY_MARKER_KEY = ${JSON.stringify(BINARY_MARKER_KEY)};`);
    expect(prelude).toContain(`const MAX_VALUE_DEPTH = ${MAX_VALUE_DEPTH};`);
    expect(prelude).toContain(`const SANDBOX_API_VERSION = ${SANDBOX_API_VERSION};`);
    expect(prelude).toContain(`const TYPED_ARRAY_NAMES = ${JSON.stringify(TYPED_ARRAY_NAMES)};`);
    expect(sandboxProcessSource()).toContain(`const PUMP_GLOBAL = ${JSON.stringify(PUMP_GLOBAL)};`);
  });
});

describe('assembleSandboxScript', () => {
  test('drops imports of its own parts and export keywords, and writes protocol imports as constants', () => {
    const folder = folderWith({
      'a.js': "import { PUMP_GLOBAL } from '../sandbox-protocol.js';\nexport const a = PUMP_GLOBAL;\n",
      'b.js': "import {\n  a,\n} from './a.js';\nexport function b() { return a; }\n",
    });
    expect(assembleSandboxScript(folder, ['a.js', 'b.js'])).toBe(
      'const PUMP_GLOBAL = "__sandboxPump";\n\nconst a = PUMP_GLOBAL;\n\n\nfunction b() { return a; }\n',
    );
  });

  test('refuses an import of anything else, naming the file', () => {
    const folder = folderWith({ 'a.js': "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n" });
    expect(() => assembleSandboxScript(folder, ['a.js'])).toThrow(/a\.js imports node:fs; a sandbox program may import only its own parts \(a\.js\) and \.\.\/sandbox-protocol\.js/);
  });

  test('refuses a part that is not in the list', () => {
    const folder = folderWith({ 'a.js': "import { b } from './b.js';\nexport const a = b;\n", 'b.js': 'export const b = 1;\n' });
    expect(() => assembleSandboxScript(folder, ['a.js'])).toThrow(/a\.js imports \.\/b\.js/);
  });

  test('refuses module syntax it would have to transform', () => {
    for (const text of ['export default 1;\n', 'const a = 1;\nexport { a };\n', "import * as p from '../sandbox-protocol.js';\n"]) {
      const folder = folderWith({ 'a.js': text });
      expect(() => assembleSandboxScript(folder, ['a.js']), text).toThrow(/a\.js has "(export|import) .*": write imports as one/);
    }
  });

  test('refuses a protocol name that is not a plain constant', () => {
    const folder = folderWith({ 'a.js': "import { NO_SUCH_THING } from '../sandbox-protocol.js';\n" });
    expect(() => assembleSandboxScript(folder, ['a.js'])).toThrow(/a\.js imports NO_SUCH_THING from \.\.\/sandbox-protocol\.js/);
  });
});
