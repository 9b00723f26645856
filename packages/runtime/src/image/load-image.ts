import { readFile } from 'node:fs/promises';
import { decodeImage } from './decode-image.js';
import { ImageDecodeError, ImageInputError } from './image-errors.js';
import { assertRgbImage, isRgbImage, type RgbImage } from './rgb-image.js';

export type ImageSource = string | URL | Uint8Array | ArrayBuffer | RgbImage;

export interface LoadImageOptions {
  /** Replaces the global fetch for http(s) sources (mirrors, tests). */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
}

/**
 * Loads an image as 8-bit RGB from a file path, an http(s) URL, encoded
 * bytes, or an RgbImage (returned as is), like diffusers' `load_image`.
 */
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<RgbImage> {
  if (isRgbImage(source)) {
    assertRgbImage(source);
    return source;
  }
  if (source instanceof Uint8Array) return decodeImage(source);
  if (source instanceof ArrayBuffer) return decodeImage(new Uint8Array(source));
  if (source instanceof URL || (typeof source === 'string' && /^https?:\/\//i.test(source))) {
    const url = source.toString();
    if (/^https?:/i.test(url)) return decodeImage(await download(url, options), url);
    if (url.startsWith('file:')) return decodeImage(await readImageFile(new URL(url)), url);
    throw new ImageInputError(`Cannot load an image from ${url}: only http(s) and file URLs are supported.`);
  }
  if (typeof source === 'string') {
    if (source.length === 0) throw new ImageInputError('loadImage() got an empty path.');
    return decodeImage(await readImageFile(source), source);
  }
  if (source !== null && typeof source === 'object' && 'data' in source) assertRgbImage(source);
  throw new ImageInputError(
    `loadImage() takes a file path, an http(s) URL, a Buffer/Uint8Array of an encoded image, or an RgbImage; got ${describe(source)}.`,
  );
}

async function readImageFile(path: string | URL): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new ImageInputError(`Cannot read image file ${path.toString()}: ${reason}.`, { cause: error });
  }
}

async function download(url: string, options: LoadImageOptions): Promise<Uint8Array> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: options.signal, redirect: 'follow' });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ImageDecodeError(`Could not download an image from ${url}: ${(error as Error).message}. Check the URL and the network.`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new ImageDecodeError(`Could not download an image from ${url}: HTTP ${response.status} ${response.statusText}.`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
