import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubApiError, downloadFile, downloadFileToCacheDir, pathsInfo } from '@huggingface/hub';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';

// Each injected fault, as the unmodified client experiences it.

const REPO = 'org/faulty';
const content = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 31) % 256));
let server: HubServer;
let root: string;

beforeAll(async () => {
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  root = await mkdtemp(join(tmpdir(), 'hub-fault-'));
  server = await startHubServer({ root: join(root, 'store') });
  const src = await mkdtemp(join(root, 'src-'));
  await writeFile(join(src, 'model.onnx'), content);
  await server.importFolder(REPO, src);
});

afterEach(() => server.setFaults([]));

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('fault injection', () => {
  it('error: the matching route answers 500 the given number of times, then recovers', async () => {
    server.setFaults([{ kind: 'error', route: 'paths-info', times: 1 }]);
    server.clearRequestLog();
    const error = await pathsInfo({ repo: REPO, paths: ['model.onnx'], hubUrl: server.url }).catch((e) => e);
    expect(error).toBeInstanceOf(HubApiError);
    expect(error.statusCode).toBe(500);
    expect(await pathsInfo({ repo: REPO, paths: ['model.onnx'], hubUrl: server.url })).toHaveLength(1);
    expect(server.countRequests({ route: 'paths-info' })).toBe(2);
    expect(server.requestLog[0].faults).toEqual(['error']);
    expect(server.pendingFaults()).toEqual([]);
  });

  it('error: a status and a path pattern can be chosen', async () => {
    server.setFaults([{ kind: 'error', status: 503, path: /resolve\/main\/model\.onnx$/, method: 'GET' }]);
    await expect(downloadFile({ repo: REPO, path: 'model.onnx', hubUrl: server.url })).rejects.toMatchObject({ statusCode: 503 });
    expect(server.pendingFaults()[0].remaining).toBe(Number.POSITIVE_INFINITY);
  });

  it('truncate: the body stops after k bytes and the client errors; a retry succeeds', async () => {
    const cacheDir = join(root, 'cache');
    server.setFaults([{ kind: 'truncate', route: 'resolve', afterBytes: 1000, times: 1 }]);
    server.clearRequestLog();
    await expect(downloadFileToCacheDir({ repo: REPO, path: 'model.onnx', hubUrl: server.url, cacheDir })).rejects.toThrow();
    // The 1-byte range probe is shorter than 1000 bytes, so only the full GET was cut.
    expect(server.requestLog.map((r) => `${r.route} ${r.range ?? 'full'} ${r.faults.join(',')}`)).toEqual([
      'paths-info full ',
      'resolve bytes=0-0 ',
      'resolve full truncate',
    ]);
    const blobs = join(cacheDir, 'models--org--faulty', 'blobs');
    expect((await readdir(blobs)).every((name) => name.endsWith('.incomplete'))).toBe(true);

    const path = await downloadFileToCacheDir({ repo: REPO, path: 'model.onnx', hubUrl: server.url, cacheDir });
    expect(await readFile(path)).toEqual(content);
  });

  it('slow: the body arrives late, in pieces; a client deadline trips, a patient client gets it intact', async () => {
    server.setFaults([{ kind: 'slow', route: 'resolve', delayMs: 100, chunkBytes: 1024, times: 2 }]);
    // A 100 ms deadline on the full GET (the 1-byte probe has none): 8 pieces at 100 ms cannot make it.
    const withDeadline: typeof fetch = (input, init) =>
      new Headers(init?.headers).has('Range') ? fetch(input, init) : fetch(input, { ...init, signal: AbortSignal.timeout(100) });
    const hasty = await downloadFile({ repo: REPO, path: 'model.onnx', hubUrl: server.url, fetch: withDeadline });
    const error = await hasty!.arrayBuffer().catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.name)).toMatch(/TimeoutError|AbortError/);

    server.setFaults([{ kind: 'slow', route: 'resolve', delayMs: 5, chunkBytes: 1024 }]);
    server.clearRequestLog();
    const patient = await downloadFile({ repo: REPO, path: 'model.onnx', hubUrl: server.url });
    expect(Buffer.from(await patient!.arrayBuffer())).toEqual(content);
    expect(server.requestLog.map((r) => r.faults)).toEqual([['slow'], ['slow']]);
  });
});
