import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RemoteCodeLock } from './remote-code-lock.js';

/**
 * Where this project keeps its own files (listings, the remote-code lock):
 * `$HF_HOME/modular-diffusers/` (`HubConfig.projectDir`), outside the `hub/`
 * cache, so Python's `scan_cache_dir` sees only repo folders there.
 */
export interface ProjectLocation {
  /** `$HF_HOME/modular-diffusers`. */
  projectDir: string;
  /** The HF cache whose `modular-diffusers/` folder (where older versions kept these files) is moved out once. */
  cacheDir?: string;
}

/** The folder older versions used, inside the cache: `<HF_HUB_CACHE>/modular-diffusers`. */
export function legacyProjectDir(cacheDir: string): string {
  return join(resolve(cacheDir), 'modular-diffusers');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const migrations = new Map<string, Promise<void>>();

/**
 * Moves an old `<HF_HUB_CACHE>/modular-diffusers/` out of the cache, once per
 * process and pair of folders: the remote-code lock's pins are merged into the
 * new lock (same format, same meaning; a pin already at the new place wins),
 * listings are moved (they are only a cache of the Hub: where the new place has
 * some, the old ones are dropped). The old folder is removed when nothing else
 * is left in it. A damaged old lock is an error naming it, never dropped: it is
 * a trust record.
 */
export function migrateLegacyProjectDir(location: ProjectLocation): Promise<void> {
  if (!location.cacheDir) return Promise.resolve();
  const legacy = legacyProjectDir(location.cacheDir);
  const target = resolve(location.projectDir);
  if (legacy === target) return Promise.resolve();
  const key = `${legacy}\0${target}`;
  let running = migrations.get(key);
  if (!running) {
    running = migrate(legacy, { ...location, projectDir: target }).catch((error: unknown) => {
      migrations.delete(key);
      throw error;
    });
    migrations.set(key, running);
  }
  return running;
}

async function migrate(legacy: string, location: ProjectLocation): Promise<void> {
  if (!(await exists(legacy))) return;
  const legacyLock = join(legacy, 'remote-code.lock.json');
  if (await exists(legacyLock)) {
    // remote-code-lock.ts owns the format; it imports this module too, used only inside functions.
    await RemoteCodeLock.migrateFrom(legacyLock, location);
  }
  const oldListings = join(legacy, 'listings');
  if (await exists(oldListings)) {
    const newListings = join(location.projectDir, 'listings');
    await mkdir(location.projectDir, { recursive: true });
    if (!(await exists(newListings))) await rename(oldListings, newListings).catch(() => undefined);
    await rm(oldListings, { recursive: true, force: true });
  }
  // Lock files of the old lock's updates; anything else someone put there stays.
  for (const name of await readdir(legacy).catch(() => [])) {
    if (name === 'remote-code.lock.json.lock' || /^remote-code\.lock\.json\..*\.tmp$/.test(name)) await rm(join(legacy, name), { force: true });
  }
  await rmdir(legacy).catch(() => undefined);
}
