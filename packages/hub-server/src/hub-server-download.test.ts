import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HubApiError,
  datasetInfo,
  downloadFile,
  downloadFileToCacheDir,
  fileDownloadInfo,
  fileExists,
  listFiles,
  modelInfo,
  pathsInfo,
  repoExists,
  snapshotDownload,
  type ListFileEntry,
} from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';
import type { ImportFolderResult } from './import-folder.js';

// The real @huggingface/hub client, over HTTP, against a seeded local server.

const REPO = 'org/tiny-sdxl';
const onnx = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
const onnxData = Buffer.alloc(3000, 9);
const modelIndex = Buffer.from('{"_class_name":"StableDiffusionXLPipeline"}\n');
const unetConfig = Buffer.from('{"sample_size":8}\n');

/** What git calls the file: sha1("blob <len>\0" + content), computed here independently. */
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: HubServer;
let redirecting: HubServer;
let root: string;
let cacheDir: string;
let seeded: ImportFolderResult;

beforeAll(async () => {
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  root = await mkdtemp(join(tmpdir(), 'hub-dl-'));
  const src = join(root, 'src');
  await mkdir(join(src, 'unet'), { recursive: true });
  await mkdir(join(src, 'tokenizer'), { recursive: true });
  await writeFile(join(src, 'model_index.json'), modelIndex);
  await writeFile(join(src, 'unet', 'config.json'), unetConfig);
  await writeFile(join(src, 'unet', 'model.onnx'), onnx);
  await writeFile(join(src, 'unet', 'model.onnx_data'), onnxData);
  await writeFile(join(src, 'tokenizer', 'vocab.json'), '{"a":0}');
  await writeFile(join(src, 'empty.txt'), '');
  cacheDir = join(root, 'cache');
  server = await startHubServer({ root: join(root, 'store'), treePageSize: 3 });
  seeded = await server.importFolder(REPO, src, { tag: 'v1.0' });
  redirecting = await startHubServer({ root: join(root, 'store'), lfsRedirect: true });
});

afterAll(async () => {
  await server?.close();
  await redirecting?.close();
  await rm(root, { recursive: true, force: true });
});

describe('downloads', () => {
  it('downloadFile probes with Range: bytes=0-0, then fetches the whole file', async () => {
    server.clearRequestLog();
    const blob = await downloadFile({ repo: REPO, path: 'model_index.json', hubUrl: server.url });
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(modelIndex);
    const [probe, full] = server.requestLog;
    expect(probe).toMatchObject({ method: 'GET', route: 'resolve', range: 'bytes=0-0', status: 206 });
    expect(full).toMatchObject({ method: 'GET', route: 'resolve', status: 200 });
    expect(full.range).toBeUndefined();
  });

  it('gives the Hub headers: git-sha1 ETag for regular files, sha256 X-Linked-Etag/Size for LFS', async () => {
    const small = await fileDownloadInfo({ repo: REPO, path: 'unet/config.json', hubUrl: server.url });
    expect(small).toMatchObject({ etag: `"${gitSha1(unetConfig)}"`, size: unetConfig.length });
    const large = await fileDownloadInfo({ repo: REPO, path: 'unet/model.onnx', hubUrl: server.url });
    expect(large).toMatchObject({ etag: `"${sha256(onnx)}"`, size: onnx.length });

    const head = await fetch(`${server.url}/${REPO}/resolve/main/unet/model.onnx`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-repo-commit')).toBe(seeded.commitOid);
    expect(head.headers.get('x-linked-etag')).toBe(`"${sha256(onnx)}"`);
    expect(head.headers.get('x-linked-size')).toBe('4096');
    expect(head.headers.get('content-length')).toBe('4096');
  });

  it('honours byte ranges and refuses ranges past the end', async () => {
    const part = await fetch(`${server.url}/${REPO}/resolve/main/unet/model.onnx`, { headers: { Range: 'bytes=1000-1009' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 1000-1009/4096');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(onnx.subarray(1000, 1010));
    const tail = await fetch(`${server.url}/${REPO}/resolve/main/unet/model.onnx`, { headers: { Range: 'bytes=-6' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(onnx.subarray(4090));
    const beyond = await fetch(`${server.url}/${REPO}/resolve/main/unet/model.onnx`, { headers: { Range: 'bytes=5000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */4096');
  });

  it('downloads an empty file (its size comes from Content-Range: bytes */0)', async () => {
    const blob = await downloadFile({ repo: REPO, path: 'empty.txt', hubUrl: server.url });
    expect(blob!.size).toBe(0);
    expect((await blob!.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves the LFS pointer through raw/ and the content through resolve/', async () => {
    const pointer = await downloadFile({ repo: REPO, path: 'unet/model.onnx', raw: true, hubUrl: server.url });
    expect(await pointer!.text()).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(onnx)}\nsize 4096\n`);
  });

  it('can redirect LFS downloads to a signed object URL, as the Hub CDN does', async () => {
    redirecting.clearRequestLog();
    const blob = await downloadFile({ repo: REPO, path: 'unet/model.onnx', hubUrl: redirecting.url });
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(onnx);
    expect(redirecting.requestLog.map((r) => `${r.route} ${r.status}`)).toEqual(['resolve 302', 'lfs-object 206', 'lfs-object 200']);
    const unsigned = await fetch(`${redirecting.url}/_lfs/objects/${sha256(onnx)}`);
    expect(unsigned.status).toBe(403);
  });
});

describe('the cache made by downloadFileToCacheDir', () => {
  it('has Python layout: blobs named by sha256 (LFS) or git sha1, relative snapshot links', async () => {
    const onnxPath = await downloadFileToCacheDir({ repo: REPO, path: 'unet/model.onnx', revision: seeded.commitOid, hubUrl: server.url, cacheDir });
    const configPath = await downloadFileToCacheDir({ repo: REPO, path: 'unet/config.json', revision: seeded.commitOid, hubUrl: server.url, cacheDir });
    const repoDir = join(cacheDir, 'models--org--tiny-sdxl');
    expect(onnxPath).toBe(join(repoDir, 'snapshots', seeded.commitOid, 'unet', 'model.onnx'));
    expect(await readlink(onnxPath)).toBe(`../../../blobs/${sha256(onnx)}`);
    expect(await readlink(configPath)).toBe(`../../../blobs/${gitSha1(unetConfig)}`);
    expect(await readFile(join(repoDir, 'blobs', sha256(onnx)))).toEqual(onnx);

    server.clearRequestLog();
    await downloadFileToCacheDir({ repo: REPO, path: 'unet/model.onnx', revision: seeded.commitOid, hubUrl: server.url, cacheDir });
    expect(server.requestLog).toHaveLength(0);
  });

  it('names the snapshot of a branch download after the commit that last changed the file', async () => {
    const path = await downloadFileToCacheDir({ repo: REPO, path: 'tokenizer/vocab.json', hubUrl: server.url, cacheDir });
    expect(path).toBe(join(cacheDir, 'models--org--tiny-sdxl', 'snapshots', seeded.commitOid, 'tokenizer', 'vocab.json'));
  });

  it('snapshotDownload of a tag writes refs/<tag> and every file', async () => {
    const folder = await snapshotDownload({ repo: REPO, revision: 'v1.0', hubUrl: server.url, cacheDir });
    expect(folder).toBe(join(cacheDir, 'models--org--tiny-sdxl', 'snapshots', seeded.commitOid));
    expect(await readFile(join(cacheDir, 'models--org--tiny-sdxl', 'refs', 'v1.0'), 'utf8')).toBe(seeded.commitOid);
    expect(await readFile(join(folder, 'unet', 'model.onnx_data'))).toEqual(onnxData);
    expect(await readFile(join(folder, '.gitattributes'), 'utf8')).toContain('*.onnx filter=lfs');
  });
});

describe('listing and metadata', () => {
  it('fileExists answers from HEAD raw/', async () => {
    expect(await fileExists({ repo: REPO, path: 'unet/config.json', hubUrl: server.url })).toBe(true);
    expect(await fileExists({ repo: REPO, path: 'unet/missing.json', hubUrl: server.url })).toBe(false);
  });

  it('listFiles walks the tree recursively across pages, with folders', async () => {
    server.clearRequestLog();
    const entries: ListFileEntry[] = [];
    for await (const entry of listFiles({ repo: REPO, recursive: true, hubUrl: server.url })) entries.push(entry);
    expect(entries.map((e) => `${e.type[0]} ${e.path}`)).toEqual([
      'f .gitattributes',
      'f empty.txt',
      'f model_index.json',
      'd tokenizer',
      'f tokenizer/vocab.json',
      'd unet',
      'f unet/config.json',
      'f unet/model.onnx',
      'f unet/model.onnx_data',
    ]);
    // 9 entries at 3 per page, followed through Link: rel="next".
    expect(server.countRequests({ route: 'tree' })).toBe(3);
    const onnxEntry = entries.find((e) => e.path === 'unet/model.onnx')!;
    expect(onnxEntry.lfs).toEqual({ oid: sha256(onnx), size: 4096, pointerSize: 129 });
    expect(onnxEntry.size).toBe(4096);

    const top: string[] = [];
    for await (const entry of listFiles({ repo: REPO, path: 'unet', hubUrl: server.url })) top.push(entry.path);
    expect(top).toEqual(['unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data']);
  });

  it('pathsInfo describes files and folders, leaves missing paths out, adds lastCommit on expand', async () => {
    const info = await pathsInfo({ repo: REPO, paths: ['unet/config.json', 'unet', 'nope.txt'], expand: true, hubUrl: server.url });
    expect(info.map((i) => [i.type, i.path])).toEqual([
      ['file', 'unet/config.json'],
      ['directory', 'unet'],
    ]);
    expect(info[0]).toMatchObject({ oid: gitSha1(unetConfig), size: unetConfig.length });
    expect(info[0].lastCommit).toMatchObject({ id: seeded.commitOid, title: 'Import 6 files' });
    expect(info[1].lastCommit?.id).toBe(seeded.commitOid);
  });

  it('modelInfo resolves branches, tags, HEAD and full shas; repoExists tells what exists', async () => {
    for (const revision of [undefined, 'main', 'v1.0', seeded.commitOid, 'refs/heads/main']) {
      const info = await modelInfo({ name: REPO, revision, additionalFields: ['sha', 'filePaths'], hubUrl: server.url });
      expect(info.sha, String(revision)).toBe(seeded.commitOid);
      expect(info.filePaths).toContain('unet/model.onnx');
      expect(info.name).toBe(REPO);
    }
    expect(await repoExists({ repo: REPO, hubUrl: server.url })).toBe(true);
    expect(await repoExists({ repo: 'org/absent', hubUrl: server.url })).toBe(false);
  });
});

describe('datasets and spaces', () => {
  it('are served under their /datasets/ and /spaces/ prefixes', async () => {
    const src = join(root, 'src', 'unet');
    const dataset = await server.importFolder('datasets/org/tiny-data', src);
    await server.importFolder('spaces/org/tiny-space', src);
    const info = await datasetInfo({ name: 'org/tiny-data', additionalFields: ['sha'], hubUrl: server.url });
    expect(info.sha).toBe(dataset.commitOid);
    const blob = await downloadFile({ repo: 'datasets/org/tiny-data', path: 'config.json', hubUrl: server.url });
    expect(await blob!.text()).toBe(unetConfig.toString());
    const spaceFiles: string[] = [];
    for await (const entry of listFiles({ repo: 'spaces/org/tiny-space', hubUrl: server.url })) spaceFiles.push(entry.path);
    expect(spaceFiles).toEqual(['.gitattributes', 'config.json', 'model.onnx', 'model.onnx_data']);
    expect(await fileExists({ repo: 'spaces/org/tiny-space', path: 'model.onnx', hubUrl: server.url })).toBe(true);
    // A model repo of the same name does not exist.
    expect(await repoExists({ repo: 'org/tiny-data', hubUrl: server.url })).toBe(false);
  });
});

describe('errors the client turns into its own types', () => {
  it('unknown file: downloadFile gives null, paths-info leaves it out', async () => {
    expect(await downloadFile({ repo: REPO, path: 'nope.bin', hubUrl: server.url })).toBeNull();
    await expect(downloadFileToCacheDir({ repo: REPO, path: 'nope.bin', hubUrl: server.url, cacheDir })).rejects.toThrow('cannot get path info for nope.bin');
  });

  it('unknown revision: HubApiError 404 naming the revision', async () => {
    const error = await downloadFile({ repo: REPO, path: 'model_index.json', revision: 'no-such-branch', hubUrl: server.url }).catch((e) => e);
    expect(error).toBeInstanceOf(HubApiError);
    expect(error).toMatchObject({ statusCode: 404 });
    expect(error.message).toContain('Invalid rev id: no-such-branch');
    await expect(modelInfo({ name: REPO, revision: 'f'.repeat(40), hubUrl: server.url })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('unknown repo: HubApiError 401 for anonymous callers, as the Hub answers', async () => {
    const error = await downloadFile({ repo: 'org/absent', path: 'x', hubUrl: server.url }).catch((e) => e);
    expect(error).toBeInstanceOf(HubApiError);
    expect(error.statusCode).toBe(401);
    expect(error.message).toContain('Repository not found');
  });
});
