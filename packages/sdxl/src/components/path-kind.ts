/** Whether a path is a file or a folder; false for anything missing or unreadable (the loaders' probes). */
import { stat } from 'node:fs/promises';

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
