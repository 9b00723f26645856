import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A unique sibling name for a file being written, so concurrent writers never share one. */
export function tempSibling(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/** A unique name in `tmpDir` for a file or folder being prepared; `hint` (sanitised, cut to 40 characters) says what it is. */
export function tempPath(tmpDir: string, hint = 'tmp'): string {
  return join(tmpDir, `${hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}.${process.pid}.${randomBytes(6).toString('hex')}`);
}

export interface WriteFileAtomicOptions {
  /**
   * Folder the temporary file is written in, on the same filesystem as `path` (a store's own tmp
   * folder, so that no half-written file ever sits among the files it serves). Default: beside `path`.
   */
  tempDir?: string;
}

/**
 * Writes a whole file under a temporary name and renames it into place (creating its folder):
 * readers see the old content or the new one, never a part, and concurrent writers of the same
 * content all succeed. The temporary file is removed when the write fails.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = options.tempDir === undefined ? tempSibling(path) : tempPath(options.tempDir, basename(path));
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `writeFileAtomic` of `value` as indented JSON with a final newline, the way a person reads and diffs it. */
export async function writeJsonAtomic(path: string, value: unknown, options: WriteFileAtomicOptions = {}): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Renames a file or folder prepared elsewhere (under `tempPath`, on the same filesystem) to
 * `target`, creating its folder, so it appears there whole.
 */
export async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rename(source, target);
}
