import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFileToCacheDir, scanCacheDir } from '@huggingface/hub';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { fetchRepoFiles, type DownloadProgress, type FetchRepoFilesOptions } from './fetch-repo-files.js';
import {
  EntryNotFoundError,
  HubCacheMissError,
  HubIntegrityError,
  HubJsonError,
  HubRequestError,
  HubUnauthorizedError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';
import { readJsonFile, readOptionalJsonFile } from './read-json-file.js';

// The real @huggingface/hub client over HTTP against the in-process local Hub server.

const REPO = 'org/tiny';
const PRIVATE = 'alice/secret';
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) % 256));
const FILES: Record<string, Buffer> = {
  'model_index.json': Buffer.from('{"_class_name":"StableDiffusionXLPipeline","unet":["diffusers","UNet2DConditionModel"]}\n'),
  'unet/config.json': Buffer.from('{"sample_size":8}\n'),
  'unet/model.onnx': bytes(5000, 3),
  'unet/model.onnx_data': bytes(2000, 5),
  'unet/model.fp16.onnx': bytes(3000, 7),
  'text_encoder/model.onnx': bytes(1000, 11),
  'big.bin': bytes(200_000, 13),
  'broken.json': Buffer.from('{ "a": 1,, }'),
};

/** Independent reference hashes: git's blob id and sha256. */
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let root: string;
/** An HF_HOME inside the test folder: nothing reaches the real ~/.cache/huggingface. */
const isolated = () => ({ HF_HOME: join(root, 'hf-home') });
let server: HubServer;
let commit: string;
let cacheCount = 0;

async function writeTree(dir: string, files: Record<string, Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, ...path.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(dir, ...path.split('/')), content);
  }
}

/** A fresh cache folder and an empty environment, so the machine's HF_* variables never leak in. */
function fresh(): { cacheDir: string; env: Record<string, string> } {
  const n = ++cacheCount;
  return { cacheDir: join(root, `cache-${n}`), env: { HOME: join(root, `home-${n}`) } };
}

function load(options: Partial<FetchRepoFilesOptions> & { cacheDir: string }): ReturnType<typeof fetchRepoFiles> {
  // The HOME (so HF_HOME, where listings are kept) follows the cache, so each cache starts cold.
  return fetchRepoFiles({ repo: REPO, hubUrl: server.url, env: { HOME: `${options.cacheDir}-home` }, ...options });
}

beforeAll(async () => {
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  root = await mkdtemp(join(tmpdir(), 'hub-cache-'));
  server = await startHubServer({ root: join(root, 'store'), tokens: { hf_alice: 'alice', hf_bob: 'bob' } });
  await writeTree(join(root, 'src'), FILES);
  commit = (await server.importFolder(REPO, join(root, 'src'), { tag: 'v1.0' })).commitOid;
  await writeTree(join(root, 'secret'), { 'config.json': Buffer.from('{"secret":true}') });
  await server.importFolder(PRIVATE, join(root, 'secret'), { private: true });
});

afterEach(() => server.setFaults([]));

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('fetchRepoFiles: cache layout and request counts', () => {
  it('resolves the branch once, downloads only the requested files, in Python’s layout', async () => {
    const { cacheDir } = fresh();
    server.clearRequestLog();
    const result = await load({ cacheDir, files: ['model_index.json', 'unet/model.onnx'] });

    const repoDir = join(cacheDir, 'models--org--tiny');
    expect(result.commit).toBe(commit);
    expect(result.snapshotDir).toBe(join(repoDir, 'snapshots', commit));
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
    // Regular files are named by git blob sha1, LFS files by sha256; links are relative.
    expect(await readlink(join(repoDir, 'snapshots', commit, 'model_index.json'))).toBe(`../../blobs/${gitSha1(FILES['model_index.json'])}`);
    expect(await readlink(join(repoDir, 'snapshots', commit, 'unet', 'model.onnx'))).toBe(`../../../blobs/${sha256(FILES['unet/model.onnx'])}`);
    expect((await readdir(join(repoDir, 'blobs'))).sort()).toEqual([gitSha1(FILES['model_index.json']), sha256(FILES['unet/model.onnx'])].sort());
    expect(result.files).toEqual([
      { path: 'model_index.json', localPath: join(result.snapshotDir, 'model_index.json'), size: FILES['model_index.json'].length },
      { path: 'unet/model.onnx', localPath: join(result.snapshotDir, 'unet', 'model.onnx'), size: 5000 },
    ]);
    expect(await readFile(result.files[1].localPath)).toEqual(FILES['unet/model.onnx']);
    expect(result.downloaded.sort()).toEqual(['model_index.json', 'unet/model.onnx']);
    // One revision lookup, one paths-info for both files, then probe + GET per file.
    expect(server.countRequests({ route: 'revision-info' })).toBe(1);
    expect(server.countRequests({ route: 'paths-info' })).toBe(1);
    expect(server.countRequests({ route: 'resolve' })).toBe(4);
    expect(server.countRequests()).toBe(6);

    server.clearRequestLog();
    const again = await load({ cacheDir, files: ['model_index.json', 'unet/model.onnx'] });
    expect(server.countRequests()).toBe(0);
    expect(again.files).toEqual(result.files);
    expect(again.downloaded).toEqual([]);

    // A full sha that is cached needs no request either, and writes no ref.
    const bySha = await load({ cacheDir, revision: commit, files: ['unet/model.onnx'] });
    expect(server.countRequests()).toBe(0);
    expect(bySha.files[0].localPath).toBe(result.files[1].localPath);

    // Adding a file to a cached revision skips the revision lookup.
    await load({ cacheDir, files: ['model_index.json', 'unet/config.json'] });
    expect(server.requestLog.map((r) => r.route)).toEqual(['paths-info', 'resolve', 'resolve']);
  });

  it('selects by patterns (Python fnmatch), skipping the fp16 variant, and reuses the listing', async () => {
    const { cacheDir } = fresh();
    server.clearRequestLog();
    const result = await load({ cacheDir, allowPatterns: ['unet/*'], ignorePatterns: ['*.fp16.onnx'] });
    expect(result.files.map((f) => f.path)).toEqual(['unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data']);
    const blobs = await readdir(join(cacheDir, 'models--org--tiny', 'blobs'));
    expect(blobs).not.toContain(sha256(FILES['unet/model.fp16.onnx']));
    expect(blobs).toHaveLength(3);
    expect(server.countRequests({ route: 'tree' })).toBe(1);
    expect(server.countRequests({ route: 'paths-info' })).toBe(0);

    server.clearRequestLog();
    const again = await load({ cacheDir, allowPatterns: ['unet/*'], ignorePatterns: ['*.fp16.onnx'] });
    expect(server.countRequests()).toBe(0);
    expect(again.files).toEqual(result.files);
    // "unet/" means the folder; "*" crosses "/" as in fnmatch. Both are answered from the cache too.
    const folder = await load({ cacheDir, allowPatterns: ['unet/'], ignorePatterns: ['*fp16*'] });
    expect(folder.files.map((f) => f.path)).toEqual(result.files.map((f) => f.path));
    expect(server.countRequests()).toBe(0);
  });

  it('downloads a whole repo without a selection, and a tag writes refs/<tag>', async () => {
    const { cacheDir } = fresh();
    const result = await load({ cacheDir, revision: 'v1.0', ignorePatterns: ['big.bin'] });
    expect(result.commit).toBe(commit);
    expect(result.files.map((f) => f.path).sort()).toEqual(['.gitattributes', ...Object.keys(FILES).filter((p) => p !== 'big.bin')].sort());
    expect(await readFile(join(cacheDir, 'models--org--tiny', 'refs', 'v1.0'), 'utf8')).toBe(commit);
  });

  it('serves a cached branch without asking; refresh follows the branch to its new commit', async () => {
    const repo = 'org/moving';
    await writeTree(join(root, 'moving-1'), { 'a.txt': Buffer.from('one') });
    const first = (await server.importFolder(repo, join(root, 'moving-1'))).commitOid;
    const { cacheDir } = fresh();
    expect((await load({ repo, cacheDir, files: ['a.txt'] })).commit).toBe(first);

    await writeTree(join(root, 'moving-2'), { 'a.txt': Buffer.from('two') });
    const second = (await server.importFolder(repo, join(root, 'moving-2'))).commitOid;
    server.clearRequestLog();
    expect((await load({ repo, cacheDir, files: ['a.txt'] })).commit).toBe(first);
    expect(server.countRequests()).toBe(0);

    const refreshed = await load({ repo, cacheDir, files: ['a.txt'], refresh: true });
    expect(refreshed.commit).toBe(second);
    expect(await readFile(refreshed.files[0].localPath, 'utf8')).toBe('two');
    expect(await readFile(join(cacheDir, 'models--org--moving', 'refs', 'main'), 'utf8')).toBe(second);
  });

  it('shares the cache with the client’s downloadFileToCacheDir (the layout Python reads) both ways', async () => {
    const { cacheDir } = fresh();
    // Filled by another tool: the pointer under the commit, and refs/main as Python writes it.
    await downloadFileToCacheDir({ repo: REPO, path: 'unet/model.onnx', revision: commit, hubUrl: server.url, cacheDir });
    await mkdir(join(cacheDir, 'models--org--tiny', 'refs'), { recursive: true });
    await writeFile(join(cacheDir, 'models--org--tiny', 'refs', 'main'), commit);
    server.clearRequestLog();
    const reused = await load({ cacheDir, files: ['unet/model.onnx'] });
    expect(server.countRequests()).toBe(0);
    expect(reused.downloaded).toEqual([]);

    // And what we wrote, another reader finds without a request.
    await load({ cacheDir, files: ['unet/config.json', 'model_index.json'] });
    server.clearRequestLog();
    const pointer = await downloadFileToCacheDir({ repo: REPO, path: 'unet/config.json', revision: commit, hubUrl: server.url, cacheDir });
    expect(server.countRequests()).toBe(0);
    expect(await readFile(pointer)).toEqual(FILES['unet/config.json']);
    const scan = await scanCacheDir(cacheDir);
    const repo = scan.repos.find((r) => r.id.name === REPO)!;
    expect(repo.revisions.map((r) => ({ commit: r.commitOid, refs: r.refs }))).toEqual([{ commit, refs: ['main'] }]);
    // (That scanner lists only a snapshot's top-level files.)
    expect(repo.revisions[0].files.map((f) => f.blob.path)).toEqual([join(cacheDir, 'models--org--tiny', 'blobs', gitSha1(FILES['model_index.json']))]);
    expect(scan.warnings).toEqual([]);
  });

  it('uses a dataset repo’s folder name', async () => {
    await writeTree(join(root, 'data'), { 'train.csv': Buffer.from('a,b\n1,2\n') });
    await server.importFolder('datasets/org/table', join(root, 'data'));
    const { cacheDir } = fresh();
    const result = await load({ repo: 'datasets/org/table', cacheDir, files: ['train.csv'] });
    expect(result.files[0].localPath).toContain(join(cacheDir, 'datasets--org--table', 'snapshots'));
  });
});

describe('fetchRepoFiles: bad input gets typed errors', () => {
  it('unknown repo, revision and file', async () => {
    const { cacheDir } = fresh();
    const missingRepo = await load({ repo: 'org/nope', cacheDir, files: ['a'] }).catch((e) => e);
    expect(missingRepo).toBeInstanceOf(RepoNotFoundError);
    expect(missingRepo.message).toMatch(/org\/nope.*HF_TOKEN.*accessToken/s);

    const badRevision = await load({ cacheDir, revision: 'no-such-branch', files: ['model_index.json'] }).catch((e) => e);
    expect(badRevision).toBeInstanceOf(RevisionNotFoundError);
    expect(badRevision).toMatchObject({ repo: REPO, revision: 'no-such-branch' });
    const badSha = await load({ cacheDir, revision: 'f'.repeat(40), files: ['model_index.json'] }).catch((e) => e);
    expect(badSha).toBeInstanceOf(RevisionNotFoundError);

    const missingFile = await load({ cacheDir, files: ['model_index.json', 'unet/nope.onnx'] }).catch((e) => e);
    expect(missingFile).toBeInstanceOf(EntryNotFoundError);
    expect(missingFile.paths).toEqual(['unet/nope.onnx']);
    expect(missingFile.message).toContain(`unet/nope.onnx not found in ${REPO} at revision main`);
    // The miss is remembered as Python does (.no_exist), so asking again costs no request.
    server.clearRequestLog();
    await expect(load({ cacheDir, files: ['unet/nope.onnx'] })).rejects.toBeInstanceOf(EntryNotFoundError);
    expect(server.countRequests()).toBe(0);

    const folder = await load({ cacheDir, files: ['unet'] }).catch((e) => e);
    expect(folder).toBeInstanceOf(EntryNotFoundError);
    expect(folder.message).toContain('allowPatterns such as "unet/*"');
    const byPattern = await load({ cacheDir, allowPatterns: ['unet/*'], files: ['missing.txt'] }).catch((e) => e);
    expect(byPattern).toBeInstanceOf(EntryNotFoundError);

    const unreachable = await load({ cacheDir: fresh().cacheDir, hubUrl: 'http://127.0.0.1:1', files: ['a.txt'] }).catch((e) => e);
    expect(unreachable).toBeInstanceOf(HubRequestError);
    expect(unreachable.message).toMatch(/Could not download org\/tiny from http:\/\/127\.0\.0\.1:1.*HF_HUB_OFFLINE=1/s);

    await expect(load({ cacheDir, files: ['../escape'] })).rejects.toThrow(/not a valid file path/);
    await expect(load({ repo: 'a/b/c', cacheDir })).rejects.toThrow(/not a Hub repo id/);
  });

  it('a private repo: no token, an unknown token, another user’s token, then the right one', async () => {
    const { cacheDir, env } = fresh();
    const anonymous = await load({ repo: PRIVATE, cacheDir, env, files: ['config.json'] }).catch((e) => e);
    expect(anonymous).toBeInstanceOf(RepoNotFoundError);
    expect(anonymous.message).toContain('private or gated');

    const unknown = await load({ repo: PRIVATE, cacheDir, accessToken: 'hf_nope', files: ['config.json'] }).catch((e) => e);
    expect(unknown).toBeInstanceOf(HubUnauthorizedError);
    expect(unknown.message).toContain('the accessToken option');
    const fromEnv = await load({ repo: PRIVATE, cacheDir, env: { ...env, HF_TOKEN: 'hf_nope' }, files: ['config.json'] }).catch((e) => e);
    expect(fromEnv.message).toContain('HF_TOKEN');
    await expect(load({ repo: PRIVATE, cacheDir, accessToken: 'not-a-token', files: ['config.json'] })).rejects.toBeInstanceOf(HubUnauthorizedError);

    const otherUser = await load({ repo: PRIVATE, cacheDir, accessToken: 'hf_bob', files: ['config.json'] }).catch((e) => e);
    expect(otherUser).toBeInstanceOf(RepoNotFoundError);
    expect(otherUser.message).toContain('token that was sent cannot see it');

    const viaEnv = await load({ repo: PRIVATE, cacheDir, env: { ...env, HF_TOKEN: 'hf_alice' }, files: ['config.json'] });
    expect(await readFile(viaEnv.files[0].localPath, 'utf8')).toBe('{"secret":true}');
    // The token file under HF_HOME works the same.
    const hfHome = join(root, 'hf-home');
    await mkdir(hfHome, { recursive: true });
    await writeFile(join(hfHome, 'token'), 'hf_alice\n');
    const viaFile = await load({ repo: PRIVATE, cacheDir: fresh().cacheDir, env: { HF_HOME: hfHome }, files: ['config.json'] });
    expect(viaFile.commit).toBe(viaEnv.commit);
  });

  it('offline: a cold cache is a HubCacheMissError without a request; a warm one works', async () => {
    const { cacheDir, env } = fresh();
    server.clearRequestLog();
    const cold = await load({ cacheDir, env: { ...env, HF_HUB_OFFLINE: '1' }, files: ['unet/config.json'] }).catch((e) => e);
    expect(cold).toBeInstanceOf(HubCacheMissError);
    expect(cold.message).toMatch(/org\/tiny at revision main.*unet\/config\.json.*unset HF_HUB_OFFLINE/s);
    expect(server.countRequests()).toBe(0);

    await load({ cacheDir, allowPatterns: ['unet/*.json', 'model_index.json'] });
    server.clearRequestLog();
    const warm = await load({ cacheDir, env: { ...env, HF_HUB_OFFLINE: 'true' }, allowPatterns: ['unet/*.json', 'model_index.json'] });
    expect(warm.files.map((f) => f.path)).toEqual(['model_index.json', 'unet/config.json']);
    expect((await load({ cacheDir, localFilesOnly: true, files: ['unet/config.json'] })).commit).toBe(commit);
    const partly = await load({ cacheDir, localFilesOnly: true, files: ['unet/config.json', 'unet/model.onnx'] }).catch((e) => e);
    expect(partly).toBeInstanceOf(HubCacheMissError);
    expect(partly.missing).toEqual(['unet/model.onnx']);
    expect(server.countRequests()).toBe(0);
    // An explicit localFilesOnly: false wins over the variable.
    await load({ cacheDir, env: { ...env, HF_HUB_OFFLINE: '1' }, localFilesOnly: false, files: ['unet/model.onnx'] });
    expect(server.countRequests()).toBeGreaterThan(0);
  });

  it('offline with patterns over a snapshot another tool filled (no listing): uses what the snapshot holds', async () => {
    const { cacheDir } = fresh();
    await downloadFileToCacheDir({ repo: REPO, path: 'unet/config.json', revision: commit, hubUrl: server.url, cacheDir });
    await mkdir(join(cacheDir, 'models--org--tiny', 'refs'), { recursive: true });
    await writeFile(join(cacheDir, 'models--org--tiny', 'refs', 'main'), commit);
    const result = await load({ cacheDir, localFilesOnly: true, allowPatterns: ['unet/*'] });
    expect(result.files.map((f) => f.path)).toEqual(['unet/config.json']);
    await expect(load({ cacheDir, localFilesOnly: true, allowPatterns: ['vae/*'] })).rejects.toBeInstanceOf(HubCacheMissError);
  });
});

describe('fetchRepoFiles: damaged transfers and caches', () => {
  const blobPath = (cacheDir: string, content: Buffer) => join(cacheDir, 'models--org--tiny', 'blobs', sha256(content));

  it('a dropped connection is resumed with a Range request in the same call', async () => {
    const { cacheDir } = fresh();
    server.setFaults([{ kind: 'truncate', route: 'resolve', path: 'big.bin', afterBytes: 50_000, times: 1 }]);
    server.clearRequestLog();
    const result = await load({ cacheDir, files: ['big.bin'] });
    expect(await readFile(result.files[0].localPath)).toEqual(FILES['big.bin']);
    expect(server.requestLog.filter((r) => r.route === 'resolve').map((r) => `${r.range ?? 'full'} ${r.faults.join(',')}`)).toEqual([
      'bytes=0-0 ',
      'full truncate',
      'bytes=0-0 ',
      'bytes=50000-199999 ',
    ]);
  });

  it('without retries a dropped connection fails, leaves only .incomplete, and the next call resumes', async () => {
    const { cacheDir } = fresh();
    server.setFaults([{ kind: 'truncate', route: 'resolve', path: 'big.bin', afterBytes: 60_000 }]);
    const error = await load({ cacheDir, files: ['big.bin'], retries: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(HubRequestError);
    expect(error.message).toMatch(/big\.bin.*partial download resumes/s);
    const blobs = join(cacheDir, 'models--org--tiny', 'blobs');
    expect(await readdir(blobs)).toEqual([`${sha256(FILES['big.bin'])}.incomplete`]);
    expect((await lstat(join(blobs, `${sha256(FILES['big.bin'])}.incomplete`))).size).toBe(60_000);
    await expect(lstat(join(cacheDir, 'models--org--tiny', 'snapshots', commit, 'big.bin'))).rejects.toThrow();

    server.setFaults([]);
    server.clearRequestLog();
    const result = await load({ cacheDir, files: ['big.bin'] });
    expect(await readFile(result.files[0].localPath)).toEqual(FILES['big.bin']);
    expect(server.requestLog.filter((r) => r.route === 'resolve').map((r) => r.range)).toEqual(['bytes=0-0', 'bytes=60000-199999']);
    expect(await readdir(blobs)).toEqual([sha256(FILES['big.bin'])]);
  });

  it('a 5xx is retried after a pause, and reported with its status when retries run out', async () => {
    const { cacheDir } = fresh();
    server.setFaults([{ kind: 'error', status: 503, route: 'resolve', times: 1 }]);
    const result = await load({ cacheDir, files: ['unet/config.json'] });
    expect(await readFile(result.files[0].localPath)).toEqual(FILES['unet/config.json']);
    server.setFaults([{ kind: 'error', status: 503, route: 'resolve' }]);
    const error = await load({ cacheDir, files: ['unet/model.onnx'], retries: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(HubRequestError);
    expect(error.status).toBe(503);
    expect(error.message).toContain('answered 503 for org/tiny (unet/model.onnx)');
  });

  it('wrong bytes from the wire fail the sha256 check: retried, or reported with nothing left behind', async () => {
    let corruptions = 0;
    const corrupting = (limit: number): typeof fetch => async (input, init) => {
      const response = await fetch(input, init);
      const isFullGet = String(input).includes('/resolve/') && !new Headers(init?.headers).has('Range');
      if (!isFullGet || corruptions >= limit) return response;
      corruptions++;
      const body = Buffer.from(await response.arrayBuffer());
      body[100] ^= 0xff;
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const { cacheDir } = fresh();
    const error = await load({ cacheDir, files: ['unet/model.onnx'], fetch: corrupting(Infinity), retries: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(HubIntegrityError);
    expect(error).toMatchObject({ path: 'unet/model.onnx', expected: sha256(FILES['unet/model.onnx']) });
    expect(corruptions).toBe(2);
    expect(await readdir(join(cacheDir, 'models--org--tiny', 'blobs'))).toEqual([]);

    corruptions = 0;
    const healed = await load({ cacheDir, files: ['unet/model.onnx', 'unet/config.json'], fetch: corrupting(2) });
    expect(corruptions).toBe(2);
    expect(await readFile(healed.files[0].localPath)).toEqual(FILES['unet/model.onnx']);
    expect(await readFile(healed.files[1].localPath)).toEqual(FILES['unet/config.json']);
  });

  it('verify: a blob damaged on disk is downloaded again online and reported offline', async () => {
    const { cacheDir } = fresh();
    await load({ cacheDir, files: ['unet/model.onnx', 'model_index.json'] });
    const damaged = Buffer.from(FILES['unet/model.onnx']);
    damaged[10] ^= 1;
    await writeFile(blobPath(cacheDir, FILES['unet/model.onnx']), damaged);

    server.clearRequestLog();
    // Without verify the cache is trusted (no hashing of big files on every load).
    await load({ cacheDir, files: ['unet/model.onnx', 'model_index.json'] });
    expect(server.countRequests()).toBe(0);
    const offline = await load({ cacheDir, files: ['unet/model.onnx', 'model_index.json'], verify: true, localFilesOnly: true }).catch((e) => e);
    expect(offline).toBeInstanceOf(HubIntegrityError);
    expect(offline.message).toContain('unset HF_HUB_OFFLINE');

    const repaired = await load({ cacheDir, files: ['unet/model.onnx', 'model_index.json'], verify: true });
    expect(repaired.downloaded).toEqual(['unet/model.onnx']);
    expect(await readFile(repaired.files[0].localPath)).toEqual(FILES['unet/model.onnx']);
    // A regular (git sha1) blob is checked the same way.
    await writeFile(join(cacheDir, 'models--org--tiny', 'blobs', gitSha1(FILES['model_index.json'])), '{"_class_name":"Tampered"}');
    const again = await load({ cacheDir, files: ['unet/model.onnx', 'model_index.json'], verify: true });
    expect(again.downloaded).toEqual(['model_index.json']);
    expect(await readFile(again.files[1].localPath)).toEqual(FILES['model_index.json']);
  });

  it('reports progress per file and overall', async () => {
    const { cacheDir } = fresh();
    const events: DownloadProgress[] = [];
    await load({ cacheDir, files: ['big.bin', 'unet/model.onnx'], onProgress: (p) => events.push({ ...p }), concurrency: 1 });
    const total = 200_000 + 5000;
    expect(events.every((e) => e.totalBytes === total && e.filesTotal === 2)).toBe(true);
    expect(events.at(-1)).toMatchObject({ bytes: total, filesDone: 2 });
    for (let i = 1; i < events.length; i++) expect(events[i].bytes).toBeGreaterThanOrEqual(events[i - 1].bytes);
    const big = events.filter((e) => e.path === 'big.bin');
    expect(big.at(-1)).toMatchObject({ fileBytes: 200_000, fileSize: 200_000 });
    expect(big.length).toBeGreaterThan(2);
  });

  it('an AbortSignal stops a download; nothing is left under a final name and the next call succeeds', async () => {
    const { cacheDir } = fresh();
    server.setFaults([{ kind: 'slow', route: 'resolve', path: 'big.bin', delayMs: 20, chunkBytes: 16_384 }]);
    const controller = new AbortController();
    const pending = load({
      cacheDir,
      files: ['big.bin'],
      signal: controller.signal,
      onProgress: (p) => p.fileBytes > 0 && controller.abort(new Error('user stop')),
    });
    await expect(pending).rejects.toThrow('user stop');
    const blobs = await readdir(join(cacheDir, 'models--org--tiny', 'blobs'));
    expect(blobs.filter((b) => !b.endsWith('.incomplete'))).toEqual([]);
    server.setFaults([]);
    const result = await load({ cacheDir, files: ['big.bin'] });
    expect(await readFile(result.files[0].localPath)).toEqual(FILES['big.bin']);
  });
});

describe('local folders and JSON files', () => {
  it('a folder path is used as is, without cache or network', async () => {
    server.clearRequestLog();
    const folder = join(root, 'src');
    const result = await fetchRepoFiles({ repo: folder, allowPatterns: ['unet/*'], ignorePatterns: ['*fp16*'] });
    expect(result).toMatchObject({ local: true, commit: undefined, snapshotDir: folder });
    expect(result.files).toEqual([
      { path: 'unet/config.json', localPath: join(folder, 'unet', 'config.json'), size: FILES['unet/config.json'].length },
      { path: 'unet/model.onnx', localPath: join(folder, 'unet', 'model.onnx'), size: 5000 },
      { path: 'unet/model.onnx_data', localPath: join(folder, 'unet', 'model.onnx_data'), size: 2000 },
    ]);
    await expect(fetchRepoFiles({ repo: folder, files: ['vae/config.json'] })).rejects.toBeInstanceOf(EntryNotFoundError);
    expect(server.countRequests()).toBe(0);
  });

  it('readJsonFile parses through the cache and names a malformed file', async () => {
    const { cacheDir } = fresh();
    const index = await readJsonFile<{ _class_name: string }>({ repo: REPO, path: 'model_index.json', cacheDir, hubUrl: server.url, env: isolated() });
    expect(index.data._class_name).toBe('StableDiffusionXLPipeline');
    expect(index.commit).toBe(commit);
    const broken = await readJsonFile({ repo: REPO, path: 'broken.json', cacheDir, hubUrl: server.url, env: isolated() }).catch((e) => e);
    expect(broken).toBeInstanceOf(HubJsonError);
    expect(broken.message).toMatch(/^broken\.json of org\/tiny is not valid JSON/);
    expect(await readOptionalJsonFile({ repo: REPO, path: 'modular_model_index.json', cacheDir, hubUrl: server.url, env: isolated() })).toBeUndefined();
    const local = await readJsonFile<{ _class_name: string }>({ repo: join(root, 'src'), path: 'model_index.json' });
    expect(local.data._class_name).toBe('StableDiffusionXLPipeline');
  });
});
