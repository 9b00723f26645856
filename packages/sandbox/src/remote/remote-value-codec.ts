/**
 * How pipeline values cross between the host and the sandboxed pipeline, on
 * top of the sandbox's own wire format (JSON plus typed arrays). Runtime
 * tensors are class instances, which the sandbox would refuse, so they travel
 * as `{ $tensor: { dtype, shape, data } }` and are rebuilt with the receiving
 * realm's own Tensor class; 8-bit images travel as `{ $image: { width,
 * height, channels, data } }` so the host can hand back saveable images;
 * a seeded Generator travels as `{ $generator: state }` and is rebuilt, at the
 * same point of its stream, with the receiving realm's Generator class (the
 * sender's object does not advance: it is a snapshot).
 *
 * The same source runs on both sides (it is bundled into the sandbox's
 * bootstrap library), so it uses no Node API and imports types only.
 */

/** The part of a Tensor class the codec needs: `new Tensor(dtype, data, shape)`. */
export type TensorConstructorLike = new (dtype: never, data: never, shape: readonly number[]) => unknown;

/** The part of runtime's Generator the codec needs. */
export interface GeneratorStateLike {
  seed: bigint;
  engine: { state: Uint32Array; index: number };
  nextDoubleNormal: number | undefined;
}
export type GeneratorConstructorLike = new (seed?: bigint, options?: { fusedMultiplyAdd?: boolean }) => { setState(state: GeneratorStateLike): unknown };

export interface RemoteValueCodecOptions {
  /** The receiving realm's Tensor class. */
  Tensor: TensorConstructorLike;
  /** Turns a decoded image into what this side hands out (the host wraps it as a saveable PipelineImage). */
  wrapImage?: (image: { width: number; height: number; channels: 1 | 3; data: Uint8Array }) => unknown;
  /** The receiving realm's Generator class; without it a generator that arrives is an error. */
  Generator?: GeneratorConstructorLike;
}

export interface EncodeOptions {
  /**
   * Lenient: functions and symbols are dropped and other class instances become plain copies of their own
   * data (for printing a whole PipelineState). Strict (default): they are refused with an error naming the path.
   */
  lenient?: boolean;
  /** Names the value in error messages, e.g. `input 'latents'`. */
  label?: string;
}

export const TENSOR_KEY = '$tensor';
export const IMAGE_KEY = '$image';
export const STATE_KEY = '$state';
export const GENERATOR_KEY = '$generator';
const RESERVED = new Set([TENSOR_KEY, IMAGE_KEY, STATE_KEY, GENERATOR_KEY, '$mdx']);
const DTYPES = new Set(['float32', 'float16', 'int32', 'int64', 'bool']);
const MAX_DEPTH = 64;

/** Encodes values for the other side and decodes what comes back. */
export interface RemoteValueCodec {
  encode(value: unknown, options?: EncodeOptions): unknown;
  decode(value: unknown): unknown;
}

function isTypedArray(value: object): value is ArrayBufferView & { length: number } {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Structural: any copy of the runtime Tensor class (host, sandbox, a second install) is recognised. */
export function isTensorValue(value: unknown): value is { dtype: string; shape: readonly number[]; data: ArrayBufferView & { length: number } } {
  if (value === null || typeof value !== 'object') return false;
  const { dtype, shape, data } = value as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (typeof dtype !== 'string' || !DTYPES.has(dtype) || !Array.isArray(shape)) return false;
  if (data === null || typeof data !== 'object' || !isTypedArray(data)) return false;
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) return false;
    size *= d;
  }
  return (data as { length: number }).length === size;
}

/** Structural RgbImage check (runtime's `isRgbImage`), without importing runtime. */
export function isImageValue(value: unknown): value is { width: number; height: number; channels: 1 | 3; data: Uint8Array } {
  if (value === null || typeof value !== 'object') return false;
  const { width, height, channels, data } = value as Record<string, unknown>;
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    (channels === 3 || channels === 1) &&
    data instanceof Uint8Array &&
    data.length === (width as number) * (height as number) * (channels as number)
  );
}

/** Structural check for runtime's Generator (any realm's copy): a seeded stream that can snapshot itself. */
export function isGeneratorValue(value: unknown): value is { getState(): GeneratorStateLike; fusedMultiplyAdd?: boolean } {
  if (value === null || typeof value !== 'object') return false;
  const g = value as Record<string, unknown>;
  return typeof g.getState === 'function' && typeof g.setState === 'function' && typeof g.randn === 'function' && typeof g.manualSeed === 'function';
}

export function createRemoteValueCodec(options: RemoteValueCodecOptions): RemoteValueCodec {
  const { Tensor, wrapImage, Generator } = options;

  const encode = (value: unknown, encodeOptions: EncodeOptions = {}): unknown => {
    const lenient = encodeOptions.lenient ?? false;
    const ancestors = new Set<object>();
    const walk = (v: unknown, path: string, depth: number): unknown => {
      if (v === undefined) return undefined;
      if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
      if (typeof v === 'bigint') {
        if (lenient) return String(v);
        throw new TypeError(`${path} is a bigint; pass it as a number, or inside a BigInt64Array / an int64 Tensor.`);
      }
      if (typeof v !== 'object') {
        if (lenient) return undefined;
        throw new TypeError(`${path} is a ${typeof v}; only data (numbers, strings, arrays, plain objects, typed arrays, Tensors, images) crosses into the sandbox.`);
      }
      if (depth > MAX_DEPTH) throw new TypeError(`${path} nests deeper than ${MAX_DEPTH} levels.`);
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v;
      if (isTensorValue(v)) return { [TENSOR_KEY]: { dtype: v.dtype, shape: [...v.shape], data: v.data } };
      if (isImageValue(v)) return { [IMAGE_KEY]: { width: v.width, height: v.height, channels: v.channels, data: v.data } };
      if (isGeneratorValue(v)) {
        const state = v.getState();
        return {
          [GENERATOR_KEY]: {
            seed: String(state.seed),
            engine: { state: state.engine.state, index: state.engine.index },
            nextDoubleNormal: state.nextDoubleNormal ?? null,
            fusedMultiplyAdd: v.fusedMultiplyAdd === true,
          },
        };
      }
      if (ancestors.has(v)) throw new TypeError(`${path} contains a cycle; it cannot cross into the sandbox.`);
      ancestors.add(v);
      try {
        if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`, depth + 1) ?? null);
        if (v instanceof Map) {
          if (!lenient) throw new TypeError(`${path} is a Map; pass a plain object instead.`);
          return Object.fromEntries([...v].map(([k, item]) => [String(k), walk(item, `${path}.${String(k)}`, depth + 1)]));
        }
        if (v instanceof Set) {
          if (!lenient) throw new TypeError(`${path} is a Set; pass an array instead.`);
          return [...v].map((item, i) => walk(item, `${path}[${i}]`, depth + 1) ?? null);
        }
        const proto = Object.getPrototypeOf(v) as object | null;
        if (!lenient && proto !== null && proto !== Object.prototype && !isPlainDataRealm(proto)) {
          const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
          throw new TypeError(`${path} is a ${name} instance; only plain data, typed arrays, Tensors and images cross into the sandbox.`);
        }
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(v)) {
          if (RESERVED.has(key)) throw new TypeError(`${path} has a key named "${key}", which the remote wire format reserves.`);
          const item = walk((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
          if (item !== undefined) out[key] = item;
        }
        return out;
      } finally {
        ancestors.delete(v);
      }
    };
    return walk(value, encodeOptions.label ?? 'value', 0);
  };

  const decode = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value;
    if (Array.isArray(value)) return value.map(decode);
    const obj = value as Record<string, unknown>;
    if (Object.hasOwn(obj, TENSOR_KEY)) {
      const t = obj[TENSOR_KEY] as { dtype?: unknown; shape?: unknown; data?: unknown } | null;
      if (t === null || typeof t !== 'object' || typeof t.dtype !== 'string' || !Array.isArray(t.shape)) {
        throw new TypeError('a tensor arrived without dtype and shape');
      }
      return new Tensor(t.dtype as never, t.data as never, t.shape as number[]);
    }
    if (Object.hasOwn(obj, GENERATOR_KEY)) {
      const g = obj[GENERATOR_KEY] as { seed?: unknown; engine?: { state?: unknown; index?: unknown }; nextDoubleNormal?: unknown; fusedMultiplyAdd?: unknown } | null;
      if (!Generator) throw new TypeError('a generator arrived where none can be rebuilt');
      if (g === null || typeof g !== 'object' || typeof g.seed !== 'string' || !/^[0-9]+$/.test(g.seed) || !(g.engine?.state instanceof Uint32Array) || typeof g.engine.index !== 'number') {
        throw new TypeError('a generator arrived without its seed and stream state');
      }
      const generator = new Generator(BigInt(g.seed), { fusedMultiplyAdd: g.fusedMultiplyAdd === true });
      generator.setState({
        seed: BigInt(g.seed),
        engine: { state: g.engine.state, index: g.engine.index },
        nextDoubleNormal: typeof g.nextDoubleNormal === 'number' ? g.nextDoubleNormal : undefined,
      });
      return generator;
    }
    if (Object.hasOwn(obj, IMAGE_KEY)) {
      const image = obj[IMAGE_KEY] as { width: number; height: number; channels: 1 | 3; data: Uint8Array };
      if (!isImageValue(image)) throw new TypeError('an image arrived whose width, height, channels and data do not agree');
      const plain = { width: image.width, height: image.height, channels: image.channels, data: image.data };
      return wrapImage ? wrapImage(plain) : plain;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      Object.defineProperty(out, key, { value: decode(obj[key]), writable: true, enumerable: true, configurable: true });
    }
    return out;
  };

  return { encode, decode };
}

// Objects from the sandbox's wire decoder (or another realm's JSON) have another realm's Object.prototype.
function isPlainDataRealm(proto: object): boolean {
  return Object.getPrototypeOf(proto) === null && typeof (proto as { hasOwnProperty?: unknown }).hasOwnProperty === 'function';
}
