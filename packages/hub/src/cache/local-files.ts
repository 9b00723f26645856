import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** True when `path` names an existing folder: such a "repo" is used as is, with no cache and no network. */
export async function isLocalFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Files under a folder as repo-style paths (`unet/config.json`), following
 * symlinks as a snapshot folder needs; `.git` and other tool folders are left out.
 */
export async function listFolderFiles(folder: string): Promise<{ path: string; size: number }[]> {
  let names: string[];
  try {
    names = await readdir(folder, { recursive: true });
  } catch {
    return [];
  }
  const files: { path: string; size: number }[] = [];
  for (const name of names.sort()) {
    const path = name.split(sep).join('/');
    if (path.split('/').some((part) => part === '.git' || part === '.cache')) continue;
    try {
      const info = await stat(join(folder, name));
      if (info.isFile()) files.push({ path, size: info.size });
    } catch {
      // A dangling link is not a file.
    }
  }
  return files;
}
