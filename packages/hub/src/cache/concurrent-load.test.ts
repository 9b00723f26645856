import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { fetchRepoFiles } from './fetch-repo-files.js';
import { acquireFileLock } from './file-lock.js';

// Two processes loading the same repo into the same cache at once, and locks left by crashed holders.

const REPO = 'org/shared';
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const content = { 'unet/model.onnx': Buffer.alloc(96 * 1024, 3), 'vae/model.onnx': Buffer.alloc(64 * 1024, 5), 'model_index.json': Buffer.from('{"a":1}') };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let root: string;
/** An HF_HOME inside the test folder: nothing reaches the real ~/.cache/huggingface. */
const isolated = () => ({ HF_HOME: join(root, 'hf-home') });
let server: HubServer;
let script: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-concurrent-'));
  server = await startHubServer({ root: join(root, 'store') });
  for (const [path, bytes] of Object.entries(content)) {
    await mkdir(join(root, 'src', dirname(path)), { recursive: true });
    await writeFile(join(root, 'src', path), bytes);
  }
  await server.importFolder(REPO, join(root, 'src'));
  // A loader process: prints the files it got with their sha256.
  script = join(root, 'load.mts');
  const entry = pathToFileURL(join(packageDir, 'src', 'cache', 'fetch-repo-files.ts')).href;
  await writeFile(
    script,
    `import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fetchRepoFiles } from ${JSON.stringify(entry)};
const [hubUrl, cacheDir] = process.argv.slice(2);
const result = await fetchRepoFiles({ repo: ${JSON.stringify(REPO)}, hubUrl, cacheDir, env: { HF_HOME: cacheDir + '-hf-home' }, concurrency: 1 });
const files = {};
for (const f of result.files) files[f.path] = createHash('sha256').update(await readFile(f.localPath)).digest('hex');
console.log(JSON.stringify({ commit: result.commit, files, downloaded: result.downloaded }));
`,
  );
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

function runLoader(cacheDir: string): Promise<{ commit: string; files: Record<string, string>; downloaded: string[] }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, server.url, cacheDir], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? done(JSON.parse(out.trim().split('\n').at(-1)!)) : fail(new Error(`loader exited ${code}: ${err}`))));
  });
}

describe('concurrent loads', () => {
  it('two processes loading the same repo both succeed, and each blob is fetched once', async () => {
    const cacheDir = join(root, 'cache-processes');
    // Slow bodies so the two loads overlap whatever the process start-up times are.
    server.setFaults([{ kind: 'slow', route: 'resolve', method: 'GET', path: '.onnx', delayMs: 40, chunkBytes: 8 * 1024 }]);
    server.clearRequestLog();
    const [a, b] = await Promise.all([runLoader(cacheDir), runLoader(cacheDir)]);
    server.setFaults([]);
    const expected = { '.gitattributes': a.files['.gitattributes'], ...Object.fromEntries(Object.entries(content).map(([p, c]) => [p, sha256(c)])) };
    expect(a.files).toEqual(expected);
    expect(b.files).toEqual(expected);
    expect(b.commit).toBe(a.commit);
    // Every file downloaded by exactly one of them; the other found the blob after waiting on its lock.
    expect([...a.downloaded, ...b.downloaded].sort()).toEqual(Object.keys(expected).sort());
    const fullGets = server.requestLog.filter((r) => r.route === 'resolve' && r.method === 'GET' && r.range === undefined);
    expect(fullGets).toHaveLength(Object.keys(expected).length);
    const blobs = await readdir(join(cacheDir, 'models--org--shared', 'blobs'));
    expect(blobs.filter((n) => n.endsWith('.lock') || n.endsWith('.incomplete') || n.endsWith('.tmp'))).toEqual([]);
  });

  it('two concurrent calls in one process share the work too', async () => {
    const cacheDir = join(root, 'cache-calls');
    server.clearRequestLog();
    const [a, b] = await Promise.all([fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated() }), fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated() })]);
    expect(a.files).toEqual(b.files);
    expect(await readFile(a.files.find((f) => f.path === 'unet/model.onnx')!.localPath)).toEqual(content['unet/model.onnx']);
    expect(server.requestLog.filter((r) => r.route === 'resolve' && r.range === undefined)).toHaveLength(4);
  });
});

describe('file locks', () => {
  it('a lock left by a process that died is taken over at once', async () => {
    const dead = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.pid)']);
    const path = join(root, 'dead.lock');
    await writeFile(path, JSON.stringify({ pid: Number(dead.stdout.trim()), host: hostname(), token: 'x', since: '' }));
    const started = Date.now();
    const lock = await acquireFileLock(path, { staleMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await expect(stat(path)).rejects.toThrow();
  });

  it('a lock from another machine is taken over once its heartbeat is older than staleMs, not before', async () => {
    const path = join(root, 'remote.lock');
    await writeFile(path, JSON.stringify({ pid: 1, host: 'another-host', token: 'y', since: '' }));
    const waiting = new AbortController();
    const blocked = acquireFileLock(path, { staleMs: 5_000, signal: waiting.signal });
    setTimeout(() => waiting.abort(), 150);
    await expect(blocked).rejects.toThrow();
    const old = new Date(Date.now() - 10_000);
    await utimes(path, old, old);
    const lock = await acquireFileLock(path, { staleMs: 5_000 });
    await lock.release();
  });

  it('a live holder keeps its lock fresh; a waiter gets it on release', async () => {
    const path = join(root, 'live.lock');
    const first = await acquireFileLock(path, { staleMs: 200, heartbeatMs: 20 });
    let second: Awaited<ReturnType<typeof acquireFileLock>> | undefined;
    const waiter = acquireFileLock(path, { staleMs: 200, pollMs: 10 }).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 400));
    // Two stale periods passed; the heartbeat kept the lock, so the waiter still waits.
    expect(second).toBeUndefined();
    await first.release();
    await waiter;
    expect(second).toBeDefined();
    await second!.release();
  });
});
