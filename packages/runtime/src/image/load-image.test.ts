import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from './encode-image.js';
import { ImageDecodeError, ImageInputError } from './image-errors.js';
import { loadImage } from './load-image.js';
import type { RgbImage } from './rgb-image.js';

const pixels: RgbImage = { width: 2, height: 2, channels: 3, data: Uint8Array.from([0, 0, 0, 128, 128, 128, 255, 255, 255, 10, 200, 30]) };
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'load-image-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadImage', () => {
  it('decodes PNG bytes and files to the exact pixels', async () => {
    const png = await encodePng(pixels);
    expect(await loadImage(png)).toEqual(pixels);
    const path = join(root, 'pixels.png');
    await writeFile(path, png);
    expect(await loadImage(path)).toEqual(pixels);
    expect(await loadImage(new URL(`file://${path}`))).toEqual(pixels);
  });

  it('returns an RgbImage as is', async () => {
    expect(await loadImage(pixels)).toBe(pixels);
  });

  it('drops alpha without blending, like PIL convert("RGB")', async () => {
    const rgba = await sharp(Uint8Array.from([200, 100, 50, 0, 1, 2, 3, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const image = await loadImage(rgba);
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual([200, 100, 50, 1, 2, 3]);
  });

  it('repeats a grey PNG into three channels', async () => {
    const gray = await encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.from([9, 250]) });
    expect(Array.from((await loadImage(gray)).data)).toEqual([9, 9, 9, 250, 250, 250]);
  });

  it('applies the EXIF orientation (diffusers calls ImageOps.exif_transpose)', async () => {
    // 16x8, left half red, right half blue, stored with orientation 6 (display = rotate 90° clockwise):
    // it shows as 8x16 with red on top and blue below.
    const raw = new Uint8Array(16 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) raw.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * 16 + x) * 3);
    const jpeg = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const image = await loadImage(jpeg);
    expect([image.width, image.height]).toEqual([8, 16]);
    const at = (x: number, y: number) => Array.from(image.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    const [top, bottom] = [at(4, 2), at(4, 13)];
    expect(top[0]).toBeGreaterThan(200); // red, give or take JPEG
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
  });

  it('downloads http(s) URLs through the given fetch', async () => {
    const png = await encodePng(pixels);
    const seen: string[] = [];
    const fakeFetch = (async (url: string) => {
      seen.push(url);
      return url.endsWith('/missing.png') ? new Response('nope', { status: 404, statusText: 'Not Found' }) : new Response(png);
    }) as typeof fetch;
    expect(await loadImage('https://example.test/cat.png', { fetch: fakeFetch })).toEqual(pixels);
    expect(seen).toEqual(['https://example.test/cat.png']);
    await expect(loadImage('https://example.test/missing.png', { fetch: fakeFetch })).rejects.toThrow(/HTTP 404/);
  });

  it('says clearly what went wrong', async () => {
    await expect(loadImage(join(root, 'nope.png'))).rejects.toThrow(ImageInputError);
    await expect(loadImage(join(root, 'nope.png'))).rejects.toThrow(/no such file/);
    await expect(loadImage(Uint8Array.from([1, 2, 3, 4]))).rejects.toThrow(ImageDecodeError);
    await expect(loadImage(42 as never)).rejects.toThrow(/file path, an http\(s\) URL/);
    await expect(loadImage({ width: 2, height: 2, channels: 3, data: new Uint8Array(3) } as never)).rejects.toThrow(/not a valid RgbImage/);
  });
});
