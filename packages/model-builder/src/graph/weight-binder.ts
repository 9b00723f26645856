/**
 * Where a built graph's initializers get their bytes. ONNX external data
 * (`location`, `offset`, `length`) can point into any file, and a
 * safetensors file is raw little-endian tensors after a JSON header, so:
 *
 * - 'in-place': the initializer points at the tensor inside the safetensors
 *   file itself. No byte is copied; the session reads the weights from where
 *   they lie. fp16/bf16 weights kept this way get a Cast to float32 after
 *   them (for providers that run half precision well).
 * - 'float32-copy': fp16/bf16 weights are converted to float32, tensor by
 *   tensor, into one `weights.f32.bin` beside the graph (the single copy the
 *   conversion needs); the graph points there.
 * - 'linked': weights from several folders (a UNet and an adapter file,
 *   e.g. an IP-Adapter's). Each file whose tensors can stay as they are is
 *   hard-linked into the built-graph folder (no byte copied; a copy only
 *   where the two folders are on different file systems) and read in place
 *   there; the other files' half-precision tensors are converted into
 *   `weights.f32.bin` as above. So adding an adapter to a float32 UNet does
 *   not copy the UNet.
 *
 * onnxruntime only resolves external data inside one folder (the
 * session's `model_external_initializers_file_folder_path`), and resolves
 * symlinks before checking, so in-place locations are the real files'
 * names in their real folder (for the Hugging Face cache, the blobs folder).
 */
import { constants } from 'node:fs';
import { copyFile, link, open, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { bfloat16ToFloat32Into, float16ToFloat32Into } from './half-precision.js';
import type { WeightRef } from '../safetensors/weight-set.js';

export type WeightPlacement = 'in-place' | 'float32-copy' | 'linked';

/** File name of the converted weights inside a built-graph folder. */
export const CONVERTED_WEIGHTS_FILE = 'weights.f32.bin';

export interface BoundWeight {
  /** ONNX element type of the initializer as stored. */
  readonly dtype: 'float32' | 'float16' | 'bfloat16';
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

interface PlannedCopy {
  readonly ref: WeightRef;
  readonly offset: number;
}

const COPY_ALIGNMENT = 64;

export class WeightBinder {
  private readonly copies = new Map<string, PlannedCopy>();
  private copyBytes = 0;

  private constructor(
    readonly placement: WeightPlacement,
    /** The folder external locations are relative to; null means the built-graph folder itself. */
    readonly externalDataFolder: string | null,
    /** Files read as stored: their name in externalDataFolder (or, linked, in the built-graph folder). */
    private readonly realNames: ReadonlyMap<string, string>,
    /** 'linked': the real file behind each link name. */
    private readonly links: ReadonlyMap<string, string> = new Map(),
  ) {}

  /**
   * `keepHalf`: keep fp16/bf16 weights as they are (a provider that runs
   * half precision); otherwise any non-float32 weight means a float32 copy.
   */
  static async plan(files: readonly { path: string; dtypes: ReadonlySet<string> }[], keepHalf: boolean): Promise<WeightBinder> {
    const reals = new Map<string, string>();
    for (const file of files) reals.set(file.path, await realpath(file.path));
    const folders = new Set([...reals.values()].map((p) => dirname(p)));
    const asStored = (f: { dtypes: ReadonlySet<string> }) => keepHalf || (!f.dtypes.has('F16') && !f.dtypes.has('BF16'));
    if (folders.size === 1 && files.every(asStored)) {
      const names = new Map([...reals].map(([path, real]) => [path, basename(real)]));
      return new WeightBinder('in-place', [...folders][0]!, names);
    }
    if (folders.size > 1 && files.some(asStored)) {
      const names = new Map<string, string>();
      const links = new Map<string, string>();
      files.filter(asStored).forEach((file, index) => {
        const name = `linked-${index}-${basename(reals.get(file.path)!)}`;
        names.set(file.path, name);
        links.set(name, reals.get(file.path)!);
      });
      return new WeightBinder('linked', null, names, links);
    }
    return new WeightBinder('float32-copy', null, new Map());
  }

  bind(ref: WeightRef): BoundWeight {
    if (this.realNames.has(ref.file.path)) {
      const dtype = ref.info.dtype === 'F32' ? 'float32' : ref.info.dtype === 'F16' ? 'float16' : 'bfloat16';
      return { dtype, location: this.realNames.get(ref.file.path)!, offset: ref.info.fileOffset, length: ref.info.byteLength };
    }
    const id = `${ref.file.path}\u0000${ref.key}`;
    let planned = this.copies.get(id);
    if (!planned) {
      this.copyBytes += (COPY_ALIGNMENT - (this.copyBytes % COPY_ALIGNMENT)) % COPY_ALIGNMENT;
      planned = { ref, offset: this.copyBytes };
      this.copies.set(id, planned);
      this.copyBytes += float32Length(ref);
    }
    return { dtype: 'float32', location: CONVERTED_WEIGHTS_FILE, offset: planned.offset, length: float32Length(ref) };
  }

  /** Bytes the float32 copy will take (0 in place). */
  get convertedBytes(): number {
    return this.copyBytes;
  }

  /**
   * Writes what the graphs read from `folder` (the built-graph folder): the links, and the float32
   * copy, streamed one tensor at a time. A no-op in place.
   */
  async writeConverted(folder: string, signal?: AbortSignal): Promise<void> {
    for (const [name, real] of this.links) {
      signal?.throwIfAborted();
      await link(real, join(folder, name)).catch(async (error: NodeJS.ErrnoException) => {
        // Another file system (or one without hard links): a copy, cloned where the file system can.
        if (error.code !== 'EXDEV' && error.code !== 'EPERM' && error.code !== 'ENOTSUP') throw error;
        await copyFile(real, join(folder, name), constants.COPYFILE_FICLONE);
      });
    }
    if (this.copies.size === 0) return;
    const out = await open(join(folder, CONVERTED_WEIGHTS_FILE), 'w');
    try {
      const sources = new Map<string, Awaited<ReturnType<typeof open>>>();
      try {
        for (const { ref, offset } of this.copies.values()) {
          signal?.throwIfAborted();
          let source = sources.get(ref.file.path);
          if (!source) sources.set(ref.file.path, (source = await open(ref.file.path, 'r')));
          await copyConverted(source, out, ref, offset);
        }
      } finally {
        for (const handle of sources.values()) await handle.close();
      }
      await out.truncate(this.copyBytes);
      await out.sync();
    } finally {
      await out.close();
    }
  }
}

function float32Length(ref: WeightRef): number {
  return (ref.info.byteLength / (ref.info.dtype === 'F32' ? 4 : 2)) * 4;
}

/** 8M elements per chunk: the conversion never holds more than one chunk of a tensor. */
const CHUNK_ELEMENTS = 8 * 1024 * 1024;

async function copyConverted(source: Awaited<ReturnType<typeof open>>, out: Awaited<ReturnType<typeof open>>, ref: WeightRef, offset: number): Promise<void> {
  const width = ref.info.dtype === 'F32' ? 4 : 2;
  const elements = ref.info.byteLength / width;
  for (let start = 0; start < elements; start += CHUNK_ELEMENTS) {
    const count = Math.min(CHUNK_ELEMENTS, elements - start);
    const raw = Buffer.alloc(count * width);
    const { bytesRead } = await source.read(raw, 0, raw.length, ref.info.fileOffset + start * width);
    if (bytesRead !== raw.length) throw new Error(`${ref.file.path} ended inside tensor '${ref.key}'; it was truncated while building.`);
    let converted: Uint8Array;
    if (width === 4) converted = raw;
    else {
      const halves = new Uint16Array(raw.buffer, raw.byteOffset, count);
      const floats = new Float32Array(count);
      if (ref.info.dtype === 'F16') float16ToFloat32Into(halves, floats);
      else bfloat16ToFloat32Into(halves, floats);
      converted = new Uint8Array(floats.buffer);
    }
    await out.write(converted, 0, converted.length, offset + start * 4);
  }
}
