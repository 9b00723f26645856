import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A file to write: its repo-style path (`a/b.json`) and content. */
export interface FolderFile {
  path: string;
  content: string | Uint8Array;
}

/** A subfolder whose files something else writes (a component's `savePretrained`), staged like the files. */
export interface FolderWriter {
  path: string;
  write(dir: string): Promise<unknown>;
}

/**
 * Writes files into `dir` so that nothing is ever half-written: every file
 * is first written completely into a temporary folder beside `dir`. A new
 * `dir` then appears with one rename (all files or none); into an existing
 * `dir` each file is moved with its own rename (each file whole, old or new),
 * leaving the other files already there untouched. A failure removes the
 * temporary folder.
 */
export async function writeFolderAtomic(dir: string, files: readonly FolderFile[], writers: readonly FolderWriter[] = []): Promise<void> {
  const target = resolve(dir);
  for (const file of files) assertRelativePath(file.path);
  for (const writer of writers) assertRelativePath(writer.path);
  await mkdir(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const file of files) {
      const path = join(staging, ...file.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
    }
    const written = files.map((f) => f.path);
    for (const writer of writers) {
      const into = join(staging, ...writer.path.split('/'));
      await mkdir(into, { recursive: true });
      await writer.write(into);
      for (const file of await listFiles(into)) written.push(`${writer.path}/${file}`);
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
    for (const path of written) {
      const to = join(target, ...path.split('/'));
      await mkdir(dirname(to), { recursive: true });
      await rename(join(staging, ...path.split('/')), to);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Every file under `dir`, as sorted `a/b` paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) for (const inner of await listFiles(join(dir, entry.name))) out.push(`${entry.name}/${inner}`);
    else out.push(entry.name);
  }
  return out.sort();
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
