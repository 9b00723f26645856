/** `dist-hub/.build-info.json`: what `modular build` made and from which sources (never uploaded). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DIST_HUB = 'dist-hub';
export const BUILD_INFO_FILE = '.build-info.json';

export interface BuildInfo {
  plugin: string;
  version: string;
  /** sha256 over src/, package.json and the tsconfig files when the build ran. */
  sourcesSha256: string;
  bundle: { file: string; sha256: string; exportName: string };
  builtAt: string;
}

export async function readBuildInfo(pluginDir: string): Promise<BuildInfo | null> {
  const file = join(pluginDir, DIST_HUB, BUILD_INFO_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BuildInfo;
  } catch {
    return null;
  }
}
