/**
 * Python-style `repr` of plain values, so printouts read like the diffusers
 * ones the guide shows: True/False/None, quoted strings, lists and dicts.
 * JavaScript has one number type, so 6.0 prints as 6.
 */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'nan' : Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf';
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return `<class '${(value as { name?: string }).name || 'anonymous'}'>`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof Set) return value.size === 0 ? 'set()' : `{${[...value].map(pyRepr).join(', ')}}`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return `{${Object.entries(value).map(([k, v]) => `${quote(k)}: ${pyRepr(v)}`).join(', ')}}`;
    }
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    return `<${name} object>`;
  }
  return String(value);
}

/** Python picks single quotes unless the string contains one and no double quote. */
function quote(text: string): string {
  const useDouble = text.includes("'") && !text.includes('"');
  const q = useDouble ? '"' : "'";
  const body = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').split(q).join(`\\${q}`);
  return `${q}${body}${q}`;
}

/** Python's `str()` of a value: like repr, but strings print bare. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** A Python set literal of strings, sorted so printouts are stable: `{'a', 'b'}`. */
export function pySetOfStrings(values: Iterable<string>): string {
  const sorted = [...new Set(values)].sort();
  return sorted.length === 0 ? 'set()' : `{${sorted.map(quote).join(', ')}}`;
}
