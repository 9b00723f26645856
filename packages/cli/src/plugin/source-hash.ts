/**
 * One hash over a plugin's sources (src/, package.json, tsconfig files), so
 * `modular publish` can tell that sources changed after `modular build`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const ROOT_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

export async function hashPluginSources(dir: string): Promise<string> {
  const files = [...ROOT_FILES.map((f) => join(dir, f)).filter((f) => existsSync(f)), ...(await listFiles(join(dir, 'src')))];
  const hash = createHash('sha256');
  for (const file of files.map((f) => relative(dir, f).split('\\').join('/')).sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(dir, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
