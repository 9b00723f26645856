/** Writes small safetensors files for LoRA tests (the format: u64 LE header length, JSON header, raw LE float32 data). */
import { writeFile } from 'node:fs/promises';

export interface TestTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export async function writeSafetensors(path: string, tensors: Record<string, TestTensor>, metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    const bytes = Buffer.from(Float32Array.from(t.data).buffer);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  if (metadata) header.__metadata__ = metadata;
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  await writeFile(path, Buffer.concat([prefix, Buffer.from(text), ...chunks]));
}

/** A deterministic tensor: values i * step + start. */
export function ramp(shape: readonly number[], start = 0.1, step = 0.01): TestTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: size }, (_, i) => start + i * step) };
}
