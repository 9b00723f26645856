import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { moveIntoPlace, tempPath, tempSibling, writeFileAtomic, writeJsonAtomic } from './atomic-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  test('writes the whole file, creating its folder, and leaves no temporary file beside it', async () => {
    const target = join(dir, 'beside', 'deep', 'file.json');
    await writeFileAtomic(target, '{"a":1}');
    await writeFileAtomic(target, new Uint8Array([0x7b, 0x7d]));
    expect(await readFile(target, 'utf8')).toBe('{}');
    expect(await readdir(join(dir, 'beside', 'deep'))).toEqual(['file.json']);
  });

  test('concurrent writers of the same content all succeed', async () => {
    const target = join(dir, 'concurrent', 'ref');
    await Promise.all(Array.from({ length: 8 }, () => writeFileAtomic(target, 'abc')));
    expect(await readFile(target, 'utf8')).toBe('abc');
    expect(await readdir(join(dir, 'concurrent'))).toEqual(['ref']);
  });

  test('with tempDir, the temporary file lives there, never among the target folder files', async () => {
    const tempDir = join(dir, 'store-tmp');
    await mkdir(tempDir);
    const target = join(dir, 'store', 'repo', 'model.safetensors');
    await writeFileAtomic(target, 'weights', { tempDir });
    expect(await readFile(target, 'utf8')).toBe('weights');
    expect(await readdir(join(dir, 'store', 'repo'))).toEqual(['model.safetensors']);
    expect(await readdir(tempDir)).toEqual([]);
  });

  test('a failed write removes its temporary file and leaves what was there', async () => {
    const tempDir = join(dir, 'failing-tmp');
    await mkdir(tempDir);
    const target = join(dir, 'failing', 'taken');
    await writeFileAtomic(join(target, 'inside.txt'), 'kept');
    // A folder stands where the file should go, so the rename into place fails (also when running as root).
    await expect(writeFileAtomic(target, 'new', { tempDir })).rejects.toThrow();
    expect(await readFile(join(target, 'inside.txt'), 'utf8')).toBe('kept');
    expect(await readdir(tempDir)).toEqual([]);
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(await readdir(join(dir, 'failing'))).toEqual(['taken']);
  });
});

describe('temporary names', () => {
  test('two names for the same file differ, and a sibling stays in its folder', () => {
    const target = join(dir, 'names', 'file.json');
    expect(tempSibling(target)).not.toBe(tempSibling(target));
    expect(dirname(tempSibling(target))).toBe(dirname(target));
  });

  test('a hint that is not a plain file name cannot leave tmpDir', () => {
    const tmp = join(dir, 'names-tmp');
    const name = tempPath(tmp, '../../etc/passwd with spaces and a very long tail that is cut off');
    expect(dirname(name)).toBe(tmp);
    expect(basename(name)).toMatch(/^\.\._\.\._etc_passwd_with_spaces_and_a_very_\.\d+\.[0-9a-f]{12}$/);
    expect(tempPath(tmp)).not.toBe(tempPath(tmp));
  });
});

describe('writeJsonAtomic', () => {
  test('writes indented JSON with a final newline, through tempDir when given', async () => {
    const tempDir = join(dir, 'json-tmp');
    await mkdir(tempDir);
    const target = join(dir, 'json', 'refs.json');
    await writeJsonAtomic(target, { main: 'abc' }, { tempDir });
    expect(await readFile(target, 'utf8')).toBe('{\n  "main": "abc"\n}\n');
    expect(await readdir(tempDir)).toEqual([]);
  });
});

describe('moveIntoPlace', () => {
  test('moves a prepared file into a folder it creates', async () => {
    const tempDir = join(dir, 'move-tmp');
    await mkdir(tempDir);
    const prepared = tempPath(tempDir, 'blob');
    await writeFile(prepared, 'blob');
    const target = join(dir, 'move', 'objects', 'ab', 'cdef');
    await moveIntoPlace(prepared, target);
    expect(await readFile(target, 'utf8')).toBe('blob');
    expect(await readdir(tempDir)).toEqual([]);
  });
});
