import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, fileExists, listCommits, modelInfo, uploadFiles } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubServer } from './hub-server.js';
import { HubHttpError, HubServerError } from './hub-server-error.js';
import { HubStore } from './hub-store.js';
import { importFolderToHubStore } from './import-folder.js';

// Persistence and crash safety of the on-disk store.

const ALICE = 'hf_alice';
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'hub-store-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(work, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('persistence', () => {
  it('a restarted server on the same root serves the same repos, commits, branches and tags', async () => {
    const root = join(work, 'store');
    const first = await startHubServer({ root, tokens: { [ALICE]: 'alice' } });
    await first.importFolder('alice/kept', await folder('src', { 'config.json': '{"v":1}', 'unet/model.onnx': Buffer.alloc(2048, 5) }));
    const upload = (await uploadFiles({ repo: 'alice/kept', accessToken: ALICE, hubUrl: first.url, files: [{ path: 'extra.txt', content: new Blob(['extra']) }] }))!;
    const tagged = await fetch(`${first.url}/api/models/alice/kept/tag/main`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tag: 'v1' }),
    });
    expect(tagged.status).toBe(200);
    await first.close();

    const second = await startHubServer({ root, tokens: { [ALICE]: 'alice' } });
    try {
      for (const revision of ['main', 'v1', upload.commit.oid]) {
        const info = await modelInfo({ name: 'alice/kept', revision, additionalFields: ['sha'], hubUrl: second.url });
        expect(info.sha, revision).toBe(upload.commit.oid);
      }
      const onnx = await downloadFile({ repo: 'alice/kept', path: 'unet/model.onnx', hubUrl: second.url });
      expect(Buffer.from(await onnx!.arrayBuffer())).toEqual(Buffer.alloc(2048, 5));
      const titles: string[] = [];
      for await (const c of listCommits({ repo: 'alice/kept', hubUrl: second.url, accessToken: ALICE })) titles.push(c.title);
      expect(titles).toEqual(['Add 1 files', 'Import 2 files', 'initial commit']);
    } finally {
      await second.close();
    }
  });
});

describe('importFolderToHubStore', () => {
  it('seeds a store without a server; a later import mirrors the folder in a new commit', async () => {
    const root = join(work, 'store');
    const v1 = await importFolderToHubStore(root, 'org/seeded', await folder('v1', { 'a.json': '1', 'old.txt': 'old', 'w.bin': Buffer.alloc(64, 1) }));
    expect(v1).toMatchObject({ files: 3, lfsFiles: 1, revision: 'main' });
    const v2 = await importFolderToHubStore(root, 'org/seeded', await folder('v2', { 'a.json': '2' }), { tag: 'v2' });
    const dev = await importFolderToHubStore(root, 'org/seeded', await folder('v3', { 'a.json': '3' }), { revision: 'dev' });

    const server = await startHubServer({ root });
    try {
      const hubUrl = server.url;
      expect(await fileExists({ repo: 'org/seeded', path: 'old.txt', hubUrl })).toBe(false);
      expect(await fileExists({ repo: 'org/seeded', path: '.gitattributes', hubUrl })).toBe(true);
      expect(await fileExists({ repo: 'org/seeded', path: 'old.txt', revision: v1.commitOid, hubUrl })).toBe(true);
      const text = async (revision: string) => (await downloadFile({ repo: 'org/seeded', path: 'a.json', revision, hubUrl }))!.text();
      expect(await text('main')).toBe('2');
      expect(await text('v2')).toBe('2');
      expect(await text('dev')).toBe('3');
      expect(await text(v1.commitOid)).toBe('1');
      expect(dev.commitOid).not.toBe(v2.commitOid);
    } finally {
      await server.close();
    }
  });

  it('refuses a path that is not a folder, and bad repo ids, with what to do', async () => {
    const root = join(work, 'store');
    await expect(importFolderToHubStore(root, 'org/x', join(work, 'missing'))).rejects.toThrow(HubServerError);
    await expect(importFolderToHubStore(root, 'models/org/x', work)).rejects.toThrow('is not a repo id');
  });
});

describe('branches and tags', () => {
  it('accepts git ref names and refuses the rest with a 400', async () => {
    const root = join(work, 'store');
    const store = await HubStore.open(root);
    const repo = { type: 'model' as const, namespace: 'org', name: 'refs' };
    const { commit } = await store.createRepo(repo, { author: 'org' });
    for (const name of ['dev', 'feature/x', 'v1.0', 'release-2024_01']) {
      expect(await store.createBranch(repo, name)).toBe(commit.id);
    }
    for (const name of ['', '-x', '/x', 'x/', 'a..b', 'a b', 'a~1', 'x.lock', 'HEAD', 'refs/heads/x', '__proto__', 'f'.repeat(40)]) {
      const error = await store.createBranch(repo, name).catch((e) => e);
      expect(error, JSON.stringify(name)).toBeInstanceOf(HubHttpError);
      expect(error.status).toBe(400);
    }
    expect(await store.createTag(repo, 'v1', 'dev')).toBe(commit.id);
    await expect(store.createTag(repo, 'v1', 'main')).rejects.toMatchObject({ status: 409 });
    expect(await store.resolveRevision(repo, 'refs/tags/v1')).toEqual({ sha: commit.id, kind: 'tag', name: 'v1' });
  });
});

describe('crash safety', () => {
  it('a failed repo creation leaves no repo and no staging files behind', async () => {
    const store = await HubStore.open(join(work, 'store'));
    // A file where the namespace folder should be: moving the finished repo into place fails.
    await mkdir(join(work, 'store', 'repos', 'models'), { recursive: true });
    await writeFile(join(work, 'store', 'repos', 'models', 'blocked'), 'not a folder');
    const repo = { type: 'model' as const, namespace: 'blocked', name: 'r' };
    await expect(store.createRepo(repo, { author: 'blocked' })).rejects.toThrow();
    expect(await store.getRepo(repo)).toBeUndefined();
    expect(await readdir(join(work, 'store', 'tmp'))).toEqual([]);
  });

  it('an LFS upload whose bytes do not match its oid stores nothing', async () => {
    const store = await HubStore.open(join(work, 'store'));
    const oid = 'b'.repeat(64);
    const error = await store.putLfsObject(Buffer.from('other bytes'), { oid, size: 11 }).catch((e) => e);
    expect(error).toBeInstanceOf(HubHttpError);
    expect(error.status).toBe(422);
    expect(await store.lfsObjectSize(oid)).toBeUndefined();
    expect(await readdir(join(work, 'store', 'tmp'))).toEqual([]);
  });

  it('clears temp files older than an hour at start, keeps recent ones (another writer may own them)', async () => {
    const root = join(work, 'store');
    await HubStore.open(root);
    const stale = join(root, 'tmp', 'stale.123.abc');
    const fresh = join(root, 'tmp', 'fresh.123.def');
    await writeFile(stale, 'half');
    await writeFile(fresh, 'half');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await HubStore.open(root);
    expect(await readdir(join(root, 'tmp'))).toEqual(['fresh.123.def']);
  });

  it('refuses a root written in another store format', async () => {
    const root = join(work, 'store');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'hub-store.json'), '{"format":99}');
    await expect(HubStore.open(root)).rejects.toThrow('format 99');
  });
});
