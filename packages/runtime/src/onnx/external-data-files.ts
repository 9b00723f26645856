/**
 * Find the side files an ONNX model keeps its weights in (TensorProto
 * external_data `location`), without reading the weights themselves: the
 * protobuf is walked field by field from disk and every other field is
 * skipped by seeking. A model with embedded weights of 1.7 GB costs a few
 * small reads, not 1.7 GB of memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { WireFields } from './proto/onnx-schema.js';
import { ModularDiffusersError } from '@modular-diffusers/core';

export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export class OnnxProtobufError extends ModularDiffusersError {
  static override readonly code: string = 'ONNX_PROTOBUF';
  override name = 'OnnxProtobufError';
}

/** Reads a file sequentially through a small window, with cheap forward skips. */
export class FileCursor {
  position = 0;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  async byte(): Promise<number> {
    const index = this.position - this.windowStart;
    if (index < 0 || index >= this.window.length) {
      if (this.position >= this.size) throw new OnnxProtobufError(`Unexpected end of ONNX file ${this.path}; it may be truncated.`);
      const buffer = Buffer.alloc(Math.min(64 * 1024, this.size - this.position));
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.position);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = this.position;
    }
    const value = this.window[this.position - this.windowStart];
    this.position++;
    return value;
  }

  async varint(): Promise<number> {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      const b = await this.byte();
      result += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) return result;
      multiplier *= 128;
    }
    throw new OnnxProtobufError(`Malformed varint in ${this.path} at byte ${this.position}; this is not an ONNX model.`);
  }

  async bytes(length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = await this.byte();
    return out;
  }

  skip(length: number): void {
    this.position += length;
    if (this.position > this.size) throw new OnnxProtobufError(`Field runs past the end of ${this.path}; the file may be truncated.`);
  }

  async skipValue(wireType: number): Promise<void> {
    if (wireType === WIRE_VARINT) await this.varint();
    else if (wireType === WIRE_FIXED64) this.skip(8);
    else if (wireType === WIRE_LENGTH_DELIMITED) this.skip(await this.varint());
    else if (wireType === WIRE_FIXED32) this.skip(4);
    else throw new OnnxProtobufError(`Unsupported protobuf wire type ${wireType} in ${this.path}; this is not an ONNX model.`);
  }

  /** Visit each field of the message that ends at `end`. */
  async fields(end: number, visit: (field: number, wireType: number) => Promise<boolean>): Promise<void> {
    while (this.position < end) {
      const key = await this.varint();
      const field = Math.floor(key / 8);
      const wireType = key & 7;
      if (!(await visit(field, wireType))) await this.skipValue(wireType);
    }
  }
}

/** Handlers for the length-delimited fields of interest in one message, by field number. */
export type MessageHandlers = Record<number, (end: number) => Promise<void>>;

export async function walkMessage(cursor: FileCursor, end: number, handlers: MessageHandlers): Promise<void> {
  await cursor.fields(end, async (field, wireType) => {
    const handler = handlers[field];
    if (!handler || wireType !== WIRE_LENGTH_DELIMITED) return false;
    const length = await cursor.varint();
    await handler(cursor.position + length);
    return true;
  });
}

/** External-data locations referenced by the model's initializers, in first-seen order. */
export async function listExternalDataFiles(modelPath: string): Promise<string[]> {
  const handle = await open(modelPath, 'r');
  try {
    const { size } = await handle.stat();
    const cursor = new FileCursor(handle, size, modelPath);
    const locations = new Set<string>();
    const text = async (end: number) => (await cursor.bytes(end - cursor.position)).toString('utf8');

    const readEntry = async (end: number) => {
      let key = '';
      let value = '';
      await walkMessage(cursor, end, {
        [WireFields.entryKey]: async (e) => void (key = await text(e)),
        [WireFields.entryValue]: async (e) => void (value = await text(e)),
      });
      if (key === 'location') locations.add(value);
    };
    const readTensor = (end: number) => walkMessage(cursor, end, { [WireFields.tensorExternalData]: readEntry });
    const readGraph = (end: number) => walkMessage(cursor, end, { [WireFields.graphInitializer]: readTensor });
    await walkMessage(cursor, size, { [WireFields.modelGraph]: readGraph });
    return [...locations];
  } finally {
    await handle.close();
  }
}
