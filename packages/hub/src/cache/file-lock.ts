import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { tempSibling } from '@modular-diffusers/atomic-file';

export interface FileLockOptions {
  /** A lock whose file was not refreshed for this long is taken over. Default 30 s. */
  staleMs?: number;
  /** How often the holder refreshes the file's mtime. Default staleMs / 6. */
  heartbeatMs?: number;
  /** First wait between attempts; it doubles up to 500 ms. Default 25 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  since: string;
}

/** A held lock; `release` is safe to call twice. */
export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.token === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the lock's holder is gone: a process of this machine that no
 * longer runs, or (any machine, e.g. a shared cache on NFS) a file whose
 * heartbeat stopped.
 */
async function isStale(path: string, staleMs: number): Promise<{ ino: number; mtimeMs: number } | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  const owner = await readOwner(path);
  const deadHere = owner !== undefined && owner.host === hostname() && !processIsAlive(owner.pid);
  return deadHere || Date.now() - info.mtimeMs > staleMs ? { ino: info.ino, mtimeMs: info.mtimeMs } : undefined;
}

/**
 * Moves a stale lock aside. Two waiters may judge the same lock stale; the
 * rename lets only one take it, and a waiter that took a fresh lock by mistake
 * (replaced between its check and its rename) puts it back with `link`, which
 * never overwrites.
 */
async function breakStaleLock(path: string, judged: { ino: number; mtimeMs: number }): Promise<void> {
  const aside = tempSibling(path);
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await stat(aside);
  if (moved.ino !== judged.ino || moved.mtimeMs !== judged.mtimeMs) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

/**
 * Takes an exclusive lock file across processes (`open` with O_EXCL): the
 * file holds the owner's pid, host and a token, and its mtime is refreshed
 * while held, so a crashed holder's lock is taken over instead of blocking
 * forever.
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  const staleMs = options.staleMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(staleMs / 6));
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
  let wait = options.pollMs ?? 25;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stale = await isStale(path, staleMs);
    if (stale) {
      await breakStaleLock(path, stale);
      continue;
    }
    await delay(wait, undefined, { signal: options.signal });
    wait = Math.min(wait * 2, 500);
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, heartbeatMs);
  heartbeat.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only remove the file if it is still ours: a holder that was (wrongly) judged
      // stale must not delete the lock of the process that took over.
      if ((await readOwner(path))?.token === owner.token) await rm(path, { force: true });
    },
  };
}

/** Runs `work` while holding the lock at `path`. */
export async function withFileLock<T>(path: string, options: FileLockOptions, work: () => Promise<T>): Promise<T> {
  const lock = await acquireFileLock(path, options);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
