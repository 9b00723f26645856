import { types } from 'node:util';
import { BINARY_MARKER_KEY, BINARY_MARKER_VALUE, MAX_VALUE_DEPTH, type TypedArrayName } from './sandbox-protocol.js';

export { BINARY_MARKER_KEY } from './sandbox-protocol.js';

/** Binary values that cross the sandbox boundary as byte copies. */
export type SandboxBinary =
  | ArrayBuffer
  | DataView
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** What may cross the boundary: JSON values with binary leaves. Everything is copied; nothing is shared. */
export type SandboxValue =
  | null
  | boolean
  | number
  | string
  | SandboxBinary
  | SandboxValue[]
  | { [key: string]: SandboxValue | undefined };

/** The wire form: a JSON text in which binary leaves are markers indexing `buffers`. */
export interface EncodedSandboxValue {
  json: string;
  buffers: ArrayBuffer[];
}


// The prelude's codec (prelude/codec.js) reads the same names from sandbox-protocol.ts; `satisfies`
// keeps this table and that list the same.
const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const satisfies Record<TypedArrayName, unknown>;

// %TypedArray%.prototype[@@toStringTag] reads the internal type name and cannot be spoofed.
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)!.get as (this: unknown) => string | undefined;

function copyBytes(buffer: ArrayBufferLike, offset: number, length: number): ArrayBuffer {
  const copy = new ArrayBuffer(length);
  new Uint8Array(copy).set(new Uint8Array(buffer, offset, length));
  return copy;
}

/** Encodes a host value for the sandbox: a JSON text plus copies of every binary leaf. */
export function encodeSandboxValue(value: SandboxValue): EncodedSandboxValue {
  const buffers: ArrayBuffer[] = [];
  const ancestors = new Set<object>();
  const walk = (v: unknown, depth: number, path: string): unknown => {
    if (v === null || v === undefined) return null;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return Number.isFinite(v) ? v : null;
      case 'object':
        break;
      default:
        throw new TypeError(
          `${path} is a ${typeof v}; only JSON values, typed arrays and ArrayBuffers cross the sandbox boundary`,
        );
    }
    const obj = v as object;
    if (depth > MAX_VALUE_DEPTH) throw new TypeError(`${path} nests deeper than ${MAX_VALUE_DEPTH} levels`);
    if (types.isArrayBuffer(obj) || types.isSharedArrayBuffer(obj)) {
      return marker(copyBytes(obj as ArrayBufferLike, 0, (obj as ArrayBufferLike).byteLength), 'ArrayBuffer');
    }
    if (ArrayBuffer.isView(obj)) {
      const tag = typedArrayTag.call(obj);
      return marker(copyBytes(obj.buffer, obj.byteOffset, obj.byteLength), tag ?? 'DataView');
    }
    if (ancestors.has(obj)) throw new TypeError(`${path} contains a cycle; it cannot cross the sandbox boundary`);
    ancestors.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((item, i) => walk(item, depth + 1, `${path}[${i}]`));
      const out: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(obj)) {
        if (key === BINARY_MARKER_KEY) {
          throw new TypeError(`${path} has a key named "${BINARY_MARKER_KEY}", which the sandbox wire format reserves`);
        }
        const item = (obj as Record<string, unknown>)[key];
        if (item !== undefined) out[key] = walk(item, depth + 1, `${path}.${key}`);
      }
      return out;
    } finally {
      ancestors.delete(obj);
    }
  };
  const marker = (bytes: ArrayBuffer, type: string) => {
    buffers.push(bytes);
    return { [BINARY_MARKER_KEY]: BINARY_MARKER_VALUE, i: buffers.length - 1, t: type };
  };
  return { json: JSON.stringify(walk(value, 0, 'value')), buffers };
}

/** Decodes the wire form into fresh host values; binary markers become views over the given buffers. */
export function decodeSandboxValue(json: string, buffers: readonly ArrayBuffer[]): SandboxValue {
  const revive = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(revive);
    const obj = v as Record<string, unknown>;
    if (typeof obj[BINARY_MARKER_KEY] === 'string') {
      const buffer = typeof obj.i === 'number' ? buffers[obj.i] : undefined;
      if (!buffer) throw new TypeError(`the sandbox referred to binary part ${String(obj.i)}, which was not sent`);
      if (obj.t === 'ArrayBuffer') return buffer;
      if (obj.t === 'DataView') return new DataView(buffer);
      const ctor = Object.hasOwn(TYPED_ARRAYS, String(obj.t)) ? TYPED_ARRAYS[obj.t as TypedArrayName] : undefined;
      if (!ctor) throw new TypeError(`the sandbox sent binary data of unknown type ${String(obj.t)}`);
      return new ctor(buffer);
    }
    // defineProperty, not assignment: a JSON key "__proto__" must stay an ordinary own property.
    for (const key of Object.keys(obj)) {
      Object.defineProperty(obj, key, { value: revive(obj[key]), writable: true, enumerable: true, configurable: true });
    }
    return obj;
  };
  return revive(JSON.parse(json)) as SandboxValue;
}
