import { readFileSync } from 'node:fs';

/** The golden printout `__golden__/<name>.txt`, byte for byte (see __golden__/README.md for where each comes from). */
export function goldenPrintout(name: string): string {
  return readFileSync(new URL(`./__golden__/${name}.txt`, import.meta.url), 'utf8');
}
