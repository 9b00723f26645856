/**
 * Serialise a GraphBuilder to ONNX bytes, optionally moving large
 * initializers into a side file the way torch.onnx / Optimum do for models
 * over protobuf's 2 GiB limit (SDXL's UNet ships `model.onnx` +
 * `model.onnx_data`). onnxruntime resolves the side file relative to the
 * model file, so such a model must be loaded from a path, not from bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DATA_LOCATION_EXTERNAL, ModelProto } from '../proto/onnx-schema.js';
import type { GraphBuilder } from './graph-builder.js';

export interface ExternalDataOptions {
  /** Side-file name, relative to the model file (default `<model file name>_data`). */
  location?: string;
  /** Initializers of at least this many bytes go to the side file (default 1024). */
  thresholdBytes?: number;
  /** Byte alignment of each tensor in the side file (default 64). */
  alignment?: number;
}

export interface WriteOnnxModelOptions {
  externalData?: ExternalDataOptions | boolean;
  producerName?: string;
  docString?: string;
}

export interface EncodedOnnxModel {
  model: Uint8Array;
  /** Side-file bytes and name when external data was requested. */
  externalData?: { location: string; bytes: Uint8Array };
}

export function encodeOnnxModel(graph: GraphBuilder, options: WriteOnnxModelOptions & { modelFileName?: string } = {}): EncodedOnnxModel {
  const proto = graph.toModelProto(options) as { graph: { initializer: Array<Record<string, unknown>> } };
  if (!options.externalData) {
    return { model: ModelProto.encode(ModelProto.fromObject(proto)).finish() };
  }
  const ext = options.externalData === true ? {} : options.externalData;
  const location = ext.location ?? `${options.modelFileName ?? 'model.onnx'}_data`;
  const threshold = ext.thresholdBytes ?? 1024;
  const alignment = ext.alignment ?? 64;

  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of proto.graph.initializer) {
    const raw = init.rawData as Uint8Array;
    if (raw.byteLength < threshold) continue;
    const padding = (alignment - (offset % alignment)) % alignment;
    if (padding) chunks.push(new Uint8Array(padding));
    offset += padding;
    chunks.push(raw);
    delete init.rawData;
    init.dataLocation = DATA_LOCATION_EXTERNAL;
    init.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
    offset += raw.byteLength;
  }
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { model: ModelProto.encode(ModelProto.fromObject(proto)).finish(), externalData: { location, bytes } };
}

/** Write `graph` to `path` (and its side file beside it when external data is on). Returns the paths written. */
export async function writeOnnxModel(path: string, graph: GraphBuilder, options: WriteOnnxModelOptions = {}): Promise<string[]> {
  const encoded = encodeOnnxModel(graph, { ...options, modelFileName: basename(path) });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, encoded.model);
  const written = [path];
  if (encoded.externalData) {
    const dataPath = join(dirname(path), encoded.externalData.location);
    await writeFile(dataPath, encoded.externalData.bytes);
    written.push(dataPath);
  }
  return written;
}
