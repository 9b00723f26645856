/**
 * Text from plugin code made safe to print as ONE line of a host log: line breaks, other
 * control characters (C0, DEL, C1, which includes NEL), the Unicode line and paragraph
 * separators, and the bidirectional and invisible formatting characters that can make a line
 * read differently than it is stored (Trojan Source, CVE-2021-42574) are written as escapes
 * (`\n`, `\r`, `\t`, `\u202e`), so they can be seen and cannot forge or reorder a line.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
