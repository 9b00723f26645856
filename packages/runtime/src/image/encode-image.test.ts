import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng, saveImage } from './encode-image.js';
import { ImageInputError } from './image-errors.js';
import { loadImage } from './load-image.js';
import type { RgbImage } from './rgb-image.js';

const image: RgbImage = { width: 3, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255]) };
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'save-image-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('encodePng / saveImage', () => {
  it('encodes a lossless PNG, grey for one channel', async () => {
    const png = await encodePng(image);
    expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // 'PNG'
    expect((await loadImage(png)).data).toEqual(image.data);
    const gray = await encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.from([3, 4]) });
    expect((await sharp(gray).metadata()).channels).toBe(1);
  });

  it('writes by extension into new folders and leaves no temporary file', async () => {
    const png = join(root, 'out', 'deep', 'image.png');
    await saveImage(image, png);
    expect((await loadImage(png)).data).toEqual(image.data);
    await saveImage(image, join(root, 'out', 'photo.JPG'));
    expect((await sharp(join(root, 'out', 'photo.JPG')).metadata()).format).toBe('jpeg');
    expect((await readdir(join(root, 'out'))).sort()).toEqual(['deep', 'photo.JPG']);
    expect(await readdir(join(root, 'out', 'deep'))).toEqual(['image.png']);
  });

  it('refuses an unknown extension before writing anything', async () => {
    await expect(saveImage(image, join(root, 'x.bmp'))).rejects.toThrow(ImageInputError);
    await expect(stat(join(root, 'x.bmp'))).rejects.toThrow();
  });

  it('cleans up its temporary file when the final rename fails', async () => {
    const dir = join(root, 'blocked');
    await mkdir(join(dir, 'target.png'), { recursive: true }); // a folder where the file should go
    await expect(saveImage(image, join(dir, 'target.png'))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target.png']);
    expect((await stat(join(dir, 'target.png'))).isDirectory()).toBe(true);
  });
});
