import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { fetchRepoFiles } from './fetch-repo-files.js';
import { acquireOsLock, acquireOsLockWith, osLockHelper } from './os-file-lock.js';

// Other programs writing the same cache: Python's huggingface_hub locks
// `.locks/<repo folder>/<etag>.lock` with flock(2) and appends to
// `blobs/<etag>.incomplete`. These tests race this project's client against a
// second process that follows that convention (test/python-style-writer.mjs
// under flock(1)); `npm run test:interop` races the real Python client.

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WRITER = join(packageDir, 'test', 'python-style-writer.mjs');
/** The blob the writers race for. 8 MiB by default to keep CI fast; the interop script uses 100 MB. */
const BLOB_MB = Number(process.env.MODULAR_DIFFUSERS_WRITERS_BLOB_MB ?? 8);
const ROUNDS = 10;
const REPO = 'org/big';
const haveLocks = osLockHelper() !== 'none' && spawnSync('flock', ['--version']).status === 0;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

let root: string;
/** An HF_HOME inside the test folder: nothing reaches the real ~/.cache/huggingface. */
const isolated = () => ({ HF_HOME: join(root, 'hf-home') });
let server: HubServer;
let commit: string;
let big: Buffer;
let bigSha: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-writers-'));
  server = await startHubServer({ root: join(root, 'store') });
  big = randomBytes(BLOB_MB * 1024 * 1024);
  bigSha = sha256(big);
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'src', 'model.bin'), big);
  await writeFile(join(root, 'src', 'medium.bin'), big.subarray(0, 512 * 1024));
  commit = (await server.importFolder(REPO, join(root, 'src'))).commitOid;
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((done) => child.on('close', (code) => done({ code, stderr })));
}

/** Holds flock(2) on `path` in a separate `flock(1)` process until `release` (or its death). */
async function holdWithFlockCommand(path: string): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
  await mkdir(dirname(path), { recursive: true });
  const child = spawn('flock', ['-x', path, 'sh', '-c', 'echo held; exec cat > /dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = exitOf(child);
  await new Promise<void>((done) => child.stdout!.on('data', () => done()));
  return {
    child,
    release: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

const settled = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => Object.assign(state, { done: true, value }));
  return state;
};

describe.skipIf(!haveLocks)('the OS lock (what Python’s filelock takes)', () => {
  it('waits while another process holds flock on the file, and gets it when that process lets go', async () => {
    const path = join(root, 'locks', 'a.lock');
    const other = await holdWithFlockCommand(path);
    const ours = settled(acquireOsLock(path));
    await new Promise((r) => setTimeout(r, 300));
    expect(ours.done).toBe(false);
    await other.release();
    await expect.poll(() => ours.done, { timeout: 10_000 }).toBe(true);
    // While this process holds it, another process cannot take it.
    expect(spawnSync('flock', ['-n', '-x', path, 'true']).status).toBe(1);
    await ours.value!.release();
    expect(spawnSync('flock', ['-n', '-x', path, 'true']).status).toBe(0);
  });

  it.skipIf(spawnSync('perl', ['-MFcntl=:flock', '-e', '1']).status !== 0)('the perl helper (where flock(1) is missing, e.g. macOS) takes the same lock', async () => {
    const path = join(root, 'locks', 'perl.lock');
    const ours = await acquireOsLockWith('perl', path);
    expect(spawnSync('flock', ['-n', '-x', path, 'true']).status).toBe(1);
    await ours.release();
    const other = await holdWithFlockCommand(path);
    const waiting = settled(acquireOsLockWith('perl', path));
    await new Promise((r) => setTimeout(r, 300));
    expect(waiting.done).toBe(false);
    await other.release();
    await expect.poll(() => waiting.done, { timeout: 10_000 }).toBe(true);
    await waiting.value!.release();
  });

  it('a holder that is killed frees the lock at once (no stale lock files to wait out)', async () => {
    const path = join(root, 'locks', 'killed.lock');
    const entry = pathToFileURL(join(packageDir, 'src', 'cache', 'os-file-lock.ts')).href;
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `const { acquireOsLock } = await import(${JSON.stringify(entry)}); await acquireOsLock(${JSON.stringify(path)}); console.log('held'); setInterval(() => {}, 1000);`], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(holder);
    await new Promise<void>((done) => holder.stdout!.on('data', () => done()));
    expect(spawnSync('flock', ['-n', '-x', path, 'true']).status).toBe(1);
    holder.kill('SIGKILL');
    await exited;
    const lock = await acquireOsLock(path);
    await lock.release();
  });

  it('an abort stops the wait and leaves the other holder alone', async () => {
    const path = join(root, 'locks', 'abort.lock');
    const other = await holdWithFlockCommand(path);
    const controller = new AbortController();
    const waiting = acquireOsLock(path, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await expect(waiting).rejects.toThrow('stop');
    expect(other.child.exitCode).toBeNull();
    await other.release();
  });
});

describe.skipIf(!haveLocks)('(6) another writer of the same blob', () => {
  it('bytes another program puts into .incomplete during the download are caught on disk, deleted and fetched again', async () => {
    const cacheDir = join(root, 'cache-tamper');
    const incomplete = join(cacheDir, 'models--org--big', 'blobs', `${sha256(big.subarray(0, 512 * 1024))}.incomplete`);
    // Slow bodies, so the tampering lands in the middle of the transfer.
    server.setFaults([{ kind: 'slow', route: 'resolve', method: 'GET', path: 'medium.bin', delayMs: 20, chunkBytes: 64 * 1024, times: 1 }]);
    server.clearRequestLog();
    let tampered = false;
    const result = await fetchRepoFiles({
      repo: REPO,
      hubUrl: server.url,
      cacheDir,
      env: isolated(),
      revision: commit,
      files: ['medium.bin'],
      onProgress: (p) => {
        if (tampered || p.fileBytes < 128 * 1024 || p.fileBytes >= p.fileSize) return;
        tampered = true;
        // A writer that ignores the lock overwrites the start of the shared file, as a second `open(..., "w")` does
        // (synchronously, so it lands while the transfer is still running).
        const fd = openSync(incomplete, 'r+');
        writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, 0);
        closeSync(fd);
      },
    });
    server.setFaults([]);
    expect(tampered).toBe(true);
    const blob = join(cacheDir, 'models--org--big', 'blobs', sha256(big.subarray(0, 512 * 1024)));
    expect(await sha256OfFile(blob)).toBe(sha256(big.subarray(0, 512 * 1024)));
    expect(await sha256OfFile(result.files[0]!.localPath)).toBe(sha256(big.subarray(0, 512 * 1024)));
    // The damaged first transfer was thrown away and the file downloaded whole again.
    expect(server.requestLog.filter((r) => r.route === 'resolve' && r.method === 'GET' && r.range === undefined)).toHaveLength(2);
    expect((await readdir(dirname(blob))).filter((n) => n.endsWith('.incomplete'))).toEqual([]);
  });

  it(`a Python-style second writer (same flock, same .incomplete) and this client download one ${BLOB_MB} MiB blob ${ROUNDS} times: every committed blob hashes to its name`, { timeout: 300_000 }, async () => {
    const cacheDir = join(root, 'cache-race');
    const repoDir = join(cacheDir, 'models--org--big');
    const blob = join(repoDir, 'blobs', bigSha);
    const lock = join(cacheDir, '.locks', 'models--org--big', `${bigSha}.lock`);
    const url = `${server.url}/${REPO}/resolve/${commit}/model.bin`;
    // Slow enough that the two transfers overlap whichever starts first.
    server.setFaults([{ kind: 'slow', route: 'resolve', method: 'GET', path: 'model.bin', delayMs: 2, chunkBytes: 256 * 1024 }]);
    const transfers = { ours: 0, theirs: 0 };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await rm(repoDir, { recursive: true, force: true });
        await mkdir(dirname(blob), { recursive: true });
        await mkdir(dirname(lock), { recursive: true });
        server.clearRequestLog();
        const writer = spawn('flock', ['-x', lock, process.execPath, WRITER, url, blob, String(big.byteLength)], { stdio: ['ignore', 'ignore', 'pipe'] });
        const writerDone = exitOf(writer);
        // Every other round this client starts only once the other writer is writing, so it meets a held lock.
        if (round % 2 === 1) await expect.poll(() => existsSync(`${blob}.incomplete`) || existsSync(blob), { timeout: 60_000, interval: 5 }).toBe(true);
        const [ours, theirs] = await Promise.all([fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), revision: commit, files: ['model.bin'] }), writerDone]);
        expect(theirs, `round ${round}: ${theirs.stderr}`).toMatchObject({ code: 0 });
        expect(await sha256OfFile(blob), `round ${round}`).toBe(bigSha);
        expect(await sha256OfFile(ours.files[0]!.localPath), `round ${round}`).toBe(bigSha);
        expect((await readdir(dirname(blob))).filter((n) => n.endsWith('.incomplete')), `round ${round}`).toEqual([]);
        // Exactly one of the two transferred the file; the other found the blob once it had the lock.
        const fullGets = server.requestLog.filter((r) => r.route === 'resolve' && r.method === 'GET' && r.range === undefined).length;
        expect(fullGets, `round ${round}`).toBe(1);
        if (ours.downloaded.length > 0) transfers.ours++;
        else transfers.theirs++;
      }
    } finally {
      server.setFaults([]);
    }
    expect(transfers.ours + transfers.theirs).toBe(ROUNDS);
    // The rounds where this client came second waited for the other writer's lock and took its blob.
    expect(transfers.theirs).toBeGreaterThanOrEqual(ROUNDS / 2);
  });
});
