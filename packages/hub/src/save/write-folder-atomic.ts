import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A file to write: its repo-style path (`a/b.json`) and content. */
export interface FolderFile {
  path: string;
  content: string | Uint8Array;
}

/**
 * Writes files into `dir` so that nothing is ever half-written: every file
 * is first written completely into a temporary folder beside `dir`. A new
 * `dir` then appears with one rename (all files or none); into an existing
 * `dir` each file is moved with its own rename (each file whole, old or new),
 * leaving the other files already there untouched. A failure removes the
 * temporary folder.
 */
export async function writeFolderAtomic(dir: string, files: readonly FolderFile[]): Promise<void> {
  const target = resolve(dir);
  for (const file of files) assertRelativePath(file.path);
  await mkdir(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const file of files) {
      const path = join(staging, ...file.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
    }
    await mkdir(staging, { recursive: true });
    if (!(await exists(target))) {
      try {
        await rename(staging, target);
        return;
      } catch (error) {
        // Another writer created it meanwhile: fall through to the per-file moves.
        if (!['EEXIST', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      }
    }
    for (const file of files) {
      const to = join(target, ...file.path.split('/'));
      await mkdir(dirname(to), { recursive: true });
      await rename(join(staging, ...file.path.split('/')), to);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function assertRelativePath(path: string): void {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new TypeError(`"${path}" is not a relative file path inside the folder (use a/b.json, no '..').`);
  }
}
