/**
 * The byte-level alphabet of GPT-2 and CLIP: every byte 0..255 gets a
 * printable unicode character, so a BPE vocabulary never holds raw control
 * or whitespace bytes. Printable Latin-1 bytes stand for themselves, in
 * byte order; the remaining bytes then get code points 256, 257, ... in byte
 * order. CLIP's vocabulary starts with exactly this list, in this order, so
 * `'!'` is id 0, `'a'` is id 64 and `'a</w>'` is id 256 + 64 = 320.
 */
function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/** byte value -> its byte-level character. */
export function byteToSymbolTable(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(isPrintableByte(b) ? b : next++);
  }
  return table;
}

/** The 256 byte-level characters in CLIP's vocabulary order (printable bytes first). */
export function byteLevelAlphabet(): string[] {
  const table = byteToSymbolTable();
  const printable: string[] = [];
  const remapped: string[] = [];
  for (let b = 0; b < 256; b++) (isPrintableByte(b) ? printable : remapped).push(table[b]!);
  return [...printable, ...remapped];
}

/** A word as byte-level characters (UTF-8 bytes mapped through the table). */
export function toByteLevelSymbols(word: string): string[] {
  const table = byteToSymbolTable();
  return [...new TextEncoder().encode(word)].map((b) => table[b]!);
}
