import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Every file of the store appears whole or not at all: it is written under the
// store's tmp folder (same filesystem) and renamed into place, which is atomic.
// The server keeps its own few lines for this rather than importing the hub client's:
// the client's tests start this server, so a dependency on the client would be a cycle.

/** A unique name in `tmpDir` for a file or folder being prepared; `hint` (sanitised, cut to 40 characters) says what it is. */
export function tempPath(tmpDir: string, hint = 'tmp'): string {
  return join(tmpDir, `${hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}.${process.pid}.${randomBytes(6).toString('hex')}`);
}

/** Writes a whole file under `tmpDir` and renames it to `target`; the temporary file is removed when the write fails. */
export async function writeFileAtomic(tmpDir: string, target: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPath(tmpDir, basename(target));
  try {
    await writeFile(temp, content);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rename(source, target);
}

export async function writeJsonAtomic(tmpDir: string, target: string, value: unknown): Promise<void> {
  await writeFileAtomic(tmpDir, target, `${JSON.stringify(value, null, 2)}\n`);
}
