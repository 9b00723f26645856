import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubRouteName, type HubServer } from '@modular-diffusers/hub-server';
import { fetchRepoFiles, type FetchRepoFilesOptions } from './fetch-repo-files.js';
import { mapHubError } from './hub-error-mapping.js';
import { HubCacheWriteError, HubRequestError } from './hub-errors.js';

// (7) Every metadata request is retried like a file download, and a disk
// problem is reported as one, not as a connection problem.

const REPO = 'org/tiny';
let root: string;
/** An HF_HOME inside the test folder: nothing reaches the real ~/.cache/huggingface. */
const isolated = () => ({ HF_HOME: join(root, 'hf-home') });
let server: HubServer;
let cacheCount = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-retries-'));
  server = await startHubServer({ root: join(root, 'store') });
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'src', 'config.json'), '{"a":1}');
  await writeFile(join(root, 'src', 'model.onnx'), Buffer.alloc(20_000, 1));
  await server.importFolder(REPO, join(root, 'src'));
});

afterEach(() => server.setFaults([]));
afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** A cold cache and a cold HF_HOME (listings live there), so every load asks the Hub. */
const load = (options: Partial<FetchRepoFilesOptions> = {}) => {
  const n = ++cacheCount;
  return fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir: join(root, `cache-${n}`), env: { HF_HOME: join(root, `hf-home-${n}`) }, ...options });
};

describe('(7) retries of metadata calls', () => {
  const cases: [HubRouteName, number, Partial<FetchRepoFilesOptions>][] = [
    ['revision-info', 503, { files: ['config.json'] }],
    ['revision-info', 429, { files: ['config.json'] }],
    ['paths-info', 502, { files: ['config.json'] }],
    ['tree', 503, { allowPatterns: ['*.json'] }],
    ['tree', 429, {}],
  ];
  it.each(cases)('one %s answer of %i is retried and the load succeeds', async (route, status, selection) => {
    server.setFaults([{ kind: 'error', status, route, times: 1 }]);
    server.clearRequestLog();
    const result = await load({ ...selection });
    expect(result.files.map((f) => f.path)).toContain('config.json');
    expect(server.countRequests({ route })).toBe(2);
    expect(server.pendingFaults()).toEqual([]);
  });

  it('a Hub that keeps failing is reported with its status after the retries, and a 4xx is not retried', async () => {
    server.setFaults([{ kind: 'error', status: 503, route: 'revision-info' }]);
    server.clearRequestLog();
    const error = await load({ files: ['config.json'], retries: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(HubRequestError);
    expect(error.status).toBe(503);
    expect(server.countRequests({ route: 'revision-info' })).toBe(2);

    server.setFaults([{ kind: 'error', status: 400, route: 'revision-info' }]);
    server.clearRequestLog();
    await expect(load({ files: ['config.json'] })).rejects.toMatchObject({ status: 400 });
    expect(server.countRequests({ route: 'revision-info' })).toBe(1);
  });
});

describe('(7) the disk, not the connection', () => {
  it.skipIf(!existsSync('/dev/full'))('a full disk (ENOSPC) says so and names the cache, without retrying the download', async () => {
    const cacheDir = join(root, 'cache-full');
    const first = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), files: ['config.json'] });
    // The next blob's partial file is a link to /dev/full: every write to it fails with ENOSPC.
    const onnxSha = (await (await fetch(`${server.url}/${REPO}/resolve/main/model.onnx`, { method: 'HEAD' })).headers.get('x-linked-etag'))!.replaceAll('"', '');
    await symlink('/dev/full', join(cacheDir, 'models--org--tiny', 'blobs', `${onnxSha}.incomplete`));
    server.clearRequestLog();
    const error = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), revision: first.commit!, files: ['model.onnx'] }).catch((e) => e);
    expect(error).toBeInstanceOf(HubCacheWriteError);
    expect(error.code).toBe('HUB_CACHE_WRITE');
    expect(error.errnoCode).toBe('ENOSPC');
    expect(error.message).toContain(`No space left on the disk of the Hugging Face cache ${cacheDir}`);
    expect(error.message).not.toMatch(/connection|HF_ENDPOINT/);
    expect(server.countRequests({ route: 'resolve', method: 'GET' })).toBeLessThanOrEqual(2);
  });

  it('EACCES, EPERM and EROFS get the permission advice, wherever they are thrown', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS'] as const) {
      const cause = Object.assign(new Error(`${code}: open '/c/blobs/x'`), { code, path: '/c/blobs/x' });
      const mapped = mapHubError(new TypeError('fetch failed', { cause }), {
        repo: REPO, revision: 'main', hubUrl: 'http://h', tokenSource: 'none', errorCode: () => undefined, cacheDir: '/c',
      });
      expect(mapped).toBeInstanceOf(HubCacheWriteError);
      expect((mapped as Error).message).toContain('The Hugging Face cache /c cannot be written (writing /c/blobs/x)');
      expect((mapped as Error).message).toMatch(code === 'EROFS' ? /read-only/ : /permission denied/);
    }
  });
});
