import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { isValidRevision } from './cache-layout.js';
import { fetchRepoFiles } from './fetch-repo-files.js';
import { HubError } from './hub-errors.js';

// (8) Nothing an answer says becomes a path on disk unchecked: a Hub (or a proxy,
// or whoever HF_ENDPOINT points at) that lies gets an error naming the value.

const REPO = 'org/tiny';
let root: string;
/** An HF_HOME inside the test folder: nothing reaches the real ~/.cache/huggingface. */
const isolated = () => ({ HF_HOME: join(root, 'hf-home') });
let server: HubServer;
let commit: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-hostile-'));
  server = await startHubServer({ root: join(root, 'store') });
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'src', 'config.json'), '{"a":1}');
  await writeFile(join(root, 'src', 'model.onnx'), Buffer.alloc(20_000, 1));
  commit = (await server.importFolder(REPO, join(root, 'src'), { lfsThresholdBytes: 10_000 })).commitOid;
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** A fetch that rewrites the JSON entries of tree listings and paths-info answers. */
function rewriting(change: (entry: Record<string, unknown>) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!/\/api\/models\/[^/]+\/[^/]+\/(tree|paths-info)\//.test(url) || !response.ok) return response;
    const entries = (await response.json()) as Record<string, unknown>[];
    for (const entry of entries) change(entry);
    return new Response(JSON.stringify(entries), { status: response.status, headers: response.headers });
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('(8) paths built from responses', () => {
  it('a listing whose oid climbs out of blobs/ is refused, naming the value, and nothing is written outside the cache', async () => {
    const cacheDir = join(root, 'cache-oid');
    // From <cache>/models--org--tiny/blobs/ this lands in the test's own folder (where the old code wrote it).
    const escape = '../../../escaped';
    const target = resolve(cacheDir, 'models--org--tiny', 'blobs', escape);
    expect(target).toBe(join(root, 'escaped'));
    const hostile = rewriting((e) => {
      if (e.path === 'config.json') e.oid = escape;
    });
    for (const files of [undefined, ['config.json']]) {
      const error = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), files, fetch: hostile }).catch((e) => e);
      expect(error).toBeInstanceOf(HubError);
      expect(error.message).toContain(JSON.stringify(escape));
    }
    for (const suffix of ['', '.incomplete', '.lock']) expect(await exists(`${target}${suffix}`)).toBe(false);
    expect(await readdir(join(cacheDir, 'models--org--tiny')).catch(() => [])).not.toContain('blobs');
  });

  it('a non-hex oid (which would have skipped the hash check) and an LFS oid that is not sha256 are refused', async () => {
    const cacheDir = join(root, 'cache-nonhex');
    const plain = await fetchRepoFiles({
      repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), files: ['config.json'],
      fetch: rewriting((e) => { if (e.path === 'config.json') e.oid = 'not-a-hash'; }),
    }).catch((e) => e);
    expect(plain).toBeInstanceOf(HubError);
    expect(plain.message).toContain('"not-a-hash"');
    const lfs = await fetchRepoFiles({
      repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), files: ['model.onnx'],
      fetch: rewriting((e) => { if (e.lfs) (e.lfs as Record<string, unknown>).oid = 'ABC/../x'; }),
    }).catch((e) => e);
    expect(lfs).toBeInstanceOf(HubError);
    expect(lfs.message).toContain('"ABC/../x"');
  });

  it('a file path with ".." in a listing is refused', async () => {
    const error = await fetchRepoFiles({
      repo: REPO, hubUrl: server.url, cacheDir: join(root, 'cache-path'), env: isolated(),
      fetch: rewriting((e) => { if (e.path === 'config.json') e.path = '../../outside.json'; }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error.message).toContain('../../outside.json');
  });

  it('a revision that is not a git ref name is refused before any request and never joined into refs/', async () => {
    const cacheDir = join(root, 'cache-rev');
    // A ref planted where "../../x" would have led.
    await mkdir(join(cacheDir, 'x'), { recursive: true });
    server.clearRequestLog();
    for (const revision of ['../../x', 'refs/../../x', 'main..dev', '.hidden', 'a/b.lock', 'has space', 'x~1', 'a//b', '/abs', 'trailing/', 'a@{1}']) {
      for (const localFilesOnly of [false, true]) {
        const error = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir, env: isolated(), revision, files: ['config.json'], localFilesOnly }).catch((e) => e);
        expect(error, revision).toBeInstanceOf(HubError);
        expect(error.message, revision).toContain(JSON.stringify(revision));
      }
    }
    expect(server.countRequests()).toBe(0);
    expect(await readdir(cacheDir)).toEqual(['x']);
  });

  it('real branch, tag, PR and commit names pass', async () => {
    for (const ok of ['main', 'v1.0', 'refs/pr/1', 'feature/x-y_z', 'release-2024.01', commit]) expect(isValidRevision(ok), ok).toBe(true);
    const result = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, cacheDir: join(root, 'cache-ok'), env: isolated(), revision: commit, files: ['config.json'] });
    expect(result.commit).toBe(commit);
  });
});
