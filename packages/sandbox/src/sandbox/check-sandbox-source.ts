import { SandboxCodeRejectedError } from './errors.js';

/** Default cap on one source's UTF-8 size: far above any plugin bundle, far below what hurts a sandbox process. */
export const DEFAULT_MAX_SOURCE_BYTES = 16 * 1024 * 1024;

// `import` followed by `(` or by a comment is a dynamic import (or could hide one). Node 20 answers
// import() from a vm context with a host-realm error whatever the context's options, so it must never
// compile. A leading `.` means a property named import (`x.import(`), which is harmless; `...import(` is not.
const DYNAMIC_IMPORT = /(^|[^.]|\.\.\.)\bimport\s*(?:\(|\/[/*])/;
// HTML-like comments change how a classic script parses, which defeats reasoning about the text.
const HTML_COMMENT = /<!--|-->/;

/**
 * Static checks run on every source before it is compiled in a sandbox. Sound because the sandbox
 * disables code generation from strings: the text checked here is all the code that can ever run.
 */
export function checkSandboxSource(source: string, filename: string, maxBytes = DEFAULT_MAX_SOURCE_BYTES): void {
  if (typeof source !== 'string') {
    throw new SandboxCodeRejectedError(filename, `its source is a ${typeof source}, not a string`);
  }
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > maxBytes) {
    throw new SandboxCodeRejectedError(filename, `it is ${bytes} bytes of UTF-8, over the ${maxBytes}-byte limit`);
  }
  const dynamicImport = DYNAMIC_IMPORT.exec(source);
  if (dynamicImport) {
    throw new SandboxCodeRejectedError(
      filename,
      `it contains a dynamic import expression at ${where(source, dynamicImport.index + dynamicImport[1].length)} ` +
        '(also rejected inside strings and comments, because the check is textual)',
    );
  }
  const htmlComment = HTML_COMMENT.exec(source);
  if (htmlComment) {
    throw new SandboxCodeRejectedError(filename, `it contains an HTML-like comment token at ${where(source, htmlComment.index)}`);
  }
}

function where(source: string, index: number): string {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  const column = index - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
