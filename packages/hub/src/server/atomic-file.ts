import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-file.js';

// Every file of the store appears whole or not at all: it is written under the
// store's tmp folder (same filesystem) and renamed into place, which is atomic.

export async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rename(source, target);
}

export async function writeJsonAtomic(tmpDir: string, target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`, { tempDir: tmpDir });
}
