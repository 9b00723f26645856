import { describe, expect, test } from 'vitest';
import { checkSandboxSource } from './check-sandbox-source.js';
import { SandboxCodeRejectedError } from './errors.js';

describe('checkSandboxSource', () => {
  test.each([
    ['import(', `x = import('fs')`],
    ['import with spaces', `x = import   ('fs')`],
    ['import then newline', `x = import\n('fs')`],
    ['import then block comment', `x = import/**/('fs')`],
    ['import then line comment', `x = import//\n('fs')`],
    ['spread import', `[...import('fs')]`],
    ['inside a string (textual check)', `const s = "import('x')"`],
    ['at the very start', `import('fs')`],
    ['HTML open comment', `a <!-- b`],
    ['HTML close comment', `x\n--> y`],
  ])('rejects %s', (_, source) => {
    expect(() => checkSandboxSource(source, 'b.js')).toThrow(SandboxCodeRejectedError);
  });

  test.each([
    ['a property named import', `o.import(1)`],
    ['an identifier that ends in import', `reimport(1); my_import (2)`],
    ['the word import in prose', `// we import nothing here`],
    ['a decrement then a comparison', `a-- > b`],
  ])('accepts %s', (_, source) => {
    expect(() => checkSandboxSource(source, 'b.js')).not.toThrow();
  });

  test('says where the import is and what to do', () => {
    expect(() => checkSandboxSource('ok();\n  x = import("fs")', 'plugin.js')).toThrow(
      /plugin\.js was rejected before running: it contains a dynamic import expression at line 2, column 7.*esbuild --format=iife/,
    );
  });

  test('caps the UTF-8 size, counting multi-byte characters', () => {
    // "é" is 2 bytes in UTF-8, so 6 characters are 12 bytes.
    expect(() => checkSandboxSource('éééééé', 'b.js', 11)).toThrow(/12 bytes of UTF-8, over the 11-byte limit/);
    expect(() => checkSandboxSource('éééééé', 'b.js', 12)).not.toThrow();
  });
});
