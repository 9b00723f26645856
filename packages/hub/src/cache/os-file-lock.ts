import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireFileLock, type FileLock, type FileLockOptions } from './file-lock.js';
import { HubError } from './hub-errors.js';

/**
 * An OS advisory lock (`flock(2)`, exclusive) on a file, the lock Python's
 * `filelock` takes on Linux and macOS, so this project and Python's
 * `huggingface_hub` exclude each other when they write the same blob.
 *
 * Node has no `flock`. A native addon would need a compiler and install
 * scripts at `npm ci`; instead a small helper process takes the lock and holds
 * it while its stdin stays open: `flock(1)` from util-linux where it exists
 * (every Linux), else `perl`'s core `flock` (macOS, BSDs). Release closes the
 * pipe; if this process dies, the kernel closes it too and the lock goes with
 * it, so a crash never leaves a lock behind. Like Python, the lock file itself
 * is left in place: deleting it would let two writers lock two different files.
 *
 * Where neither helper exists (Windows, where Python locks with
 * `msvcrt.locking` instead), the project's own lock file is used at the same
 * path: it excludes this project's processes only.
 */
export type OsLockHelper = 'flock' | 'perl' | 'none';

let detected: OsLockHelper | undefined;

/** Which helper holds OS locks on this machine (probed once). */
export function osLockHelper(): OsLockHelper {
  if (detected) return detected;
  const works = (command: string, args: string[]) => {
    const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 5000 });
    return probe.error === undefined && probe.status === 0;
  };
  if (process.platform !== 'win32' && works('flock', ['--version'])) detected = 'flock';
  else if (process.platform !== 'win32' && works('perl', ['-MFcntl=:flock', '-e', '1'])) detected = 'perl';
  else detected = 'none';
  return detected;
}

// Prints READY once the lock is held, then holds it until stdin ends.
const PERL_HOLDER =
  'use Fcntl qw(:flock); open(my $f, ">>", $ARGV[0]) or die "cannot open $ARGV[0]: $!\\n"; ' +
  'flock($f, LOCK_EX) or die "cannot lock $ARGV[0]: $!\\n"; $| = 1; print "READY\\n"; while (<STDIN>) {}';

function holderCommand(helper: Exclude<OsLockHelper, 'none'>, path: string): [string, string[]] {
  // flock -o: the holding `sh` does not inherit the descriptor, so the lock ends with flock(1) itself.
  if (helper === 'flock') return ['flock', ['-x', '-o', path, 'sh', '-c', 'echo READY; exec cat > /dev/null']];
  return ['perl', ['-e', PERL_HOLDER, path]];
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/**
 * Takes an exclusive OS lock on `path` (created if missing), waiting as long
 * as another process (of any language) holds it; `signal` stops the wait.
 */
export function acquireOsLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  return acquireOsLockWith(osLockHelper(), path, options);
}

/** {@link acquireOsLock} with a given helper (tests check each one against the others). */
export async function acquireOsLockWith(helper: OsLockHelper, path: string, options: FileLockOptions = {}): Promise<FileLock> {
  options.signal?.throwIfAborted();
  await mkdir(dirname(path), { recursive: true });
  if (helper === 'none') return acquireFileLock(path, options);
  const [command, args] = holderCommand(helper, path);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A closed stdin (the holder gone) must not crash this process with EPIPE.
  child.stdin!.on('error', () => undefined);
  const exited = waitForExit(child);
  try {
    await new Promise<void>((done, fail) => {
      let out = '';
      const onAbort = () => fail(options.signal!.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (run: () => void) => {
        options.signal?.removeEventListener('abort', onAbort);
        run();
      };
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('READY')) settle(done);
      });
      child.once('error', (error) => settle(() => fail(new HubError(`Could not start ${command} to lock ${path}: ${error.message}`, { cause: error }))));
      child.once('exit', (code) =>
        settle(() => fail(new HubError(`Could not lock ${path} (${command} exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}); check that its folder is writable.`))),
      );
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  // The holder must not keep this process alive, nor outlive it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `work` while holding the OS lock at `path`. */
export async function withOsLock<T>(path: string, options: FileLockOptions, work: () => Promise<T>): Promise<T> {
  const lock = await acquireOsLock(path, options);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
