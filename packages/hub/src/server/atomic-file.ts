import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// Every file of the store appears whole or not at all: it is written under the
// store's tmp folder (same filesystem) and renamed into place, which is atomic.

export function tempPath(tmpDir: string, hint = 'tmp'): string {
  return join(tmpDir, `${hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}.${process.pid}.${randomBytes(6).toString('hex')}`);
}

export async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rename(source, target);
}

export async function writeFileAtomic(tmpDir: string, target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPath(tmpDir, target.split(/[\\/]/).pop());
  try {
    await writeFile(temp, data);
    await moveIntoPlace(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(tmpDir: string, target: string, value: unknown): Promise<void> {
  await writeFileAtomic(tmpDir, target, `${JSON.stringify(value, null, 2)}\n`);
}
