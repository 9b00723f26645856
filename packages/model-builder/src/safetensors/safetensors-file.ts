/**
 * The header of a safetensors file, read and checked without reading the
 * weights: 8-byte little-endian header length, a JSON object of
 * `{ name: { dtype, shape, data_offsets: [begin, end] } }`, then the raw
 * little-endian bytes, offsets counted from the end of the header. A file
 * whose offsets overlap, leave holes, run past its end or disagree with
 * dtype x shape is refused here, naming the file and the tensor.
 */
import { open } from 'node:fs/promises';
import { SafetensorsFormatError } from '../errors.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset of the first byte in the file. */
  readonly fileOffset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly fileSize: number;
  /** Byte offset where the tensor data starts (8 + header length). */
  readonly dataStart: number;
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The raw JSON header bytes, for cache keys. */
  readonly headerBytes: Buffer;
}

/** Headers over 100 MB are refused, as the reference implementation does: no real model needs one. */
const MAX_HEADER_BYTES = 100_000_000;

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SafetensorsFormatError(`Cannot open safetensors file ${path}: ${error.message}.`, path);
  });
  try {
    const { size } = await handle.stat();
    const fail = (message: string, key: string | null = null): never => {
      throw new SafetensorsFormatError(`${path}${key ? ` (tensor '${key}')` : ''}: ${message}`, path, key);
    };
    if (size < 8) fail(`the file is ${size} bytes, shorter than the 8-byte header length; it is truncated, download it again.`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES) fail(`the header claims ${headerLength} bytes; this is not a safetensors file.`);
    if (8 + headerLength > size) {
      fail(`the header claims ${headerLength} bytes but the file has only ${size - 8} after the length; it is truncated, download it again.`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    let parsed: unknown;
    try {
      parsed = JSON.parse(headerBytes.toString('utf8'));
    } catch (error) {
      return fail(`the header is not valid JSON (${(error as Error).message}); the file is damaged or not safetensors.`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('the header must be a JSON object.');
    const dataStart = 8 + headerLength;
    const dataBytes = size - dataStart;
    const tensors = new Map<string, SafetensorsTensorInfo>();
    let metadata: Record<string, string> = {};
    const spans: Array<[number, number, string]> = [];
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (value ?? {}) as Record<string, string>;
        continue;
      }
      const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!entry || typeof entry !== 'object') fail('the header entry is not an object.', name);
      if (typeof entry.dtype !== 'string' || !(entry.dtype in DTYPE_BYTES)) {
        fail(`unknown dtype ${JSON.stringify(entry.dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')}).`, name);
      }
      const dtype = entry.dtype as SafetensorsDtype;
      if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        fail(`shape ${JSON.stringify(entry.shape)} is not a list of non-negative integers.`, name);
      }
      const shape = entry.shape as number[];
      const offsets = entry.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
        fail(`data_offsets ${JSON.stringify(offsets)} must be [begin, end] with 0 <= begin <= end.`, name);
      }
      const [begin, end] = offsets as [number, number];
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
      if (end - begin !== expected) {
        fail(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}; the header lies about its offsets.`, name);
      }
      if (end > dataBytes) {
        fail(`data_offsets end at ${end} but the file holds only ${dataBytes} bytes of tensor data; it is truncated, download it again.`, name);
      }
      spans.push([begin, end, name]);
      tensors.set(name, { name, dtype, shape, fileOffset: dataStart + begin, byteLength: end - begin });
    }
    // The format requires the tensors to tile the data region exactly: no overlaps, no holes.
    spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cursor = 0;
    for (const [begin, end, name] of spans) {
      if (begin < cursor) fail(`data_offsets [${begin}, ${end}] overlap the previous tensor's bytes; the header lies about its offsets.`, name);
      if (begin > cursor) fail(`data_offsets start at ${begin}, leaving a hole after byte ${cursor}; the header lies about its offsets.`, name);
      cursor = end;
    }
    if (cursor !== dataBytes) {
      fail(`the tensors cover ${cursor} bytes of data but the file has ${dataBytes}; it is damaged (or was not written by safetensors).`);
    }
    return { path, fileSize: size, dataStart, tensors, metadata, headerBytes };
  } finally {
    await handle.close();
  }
}
