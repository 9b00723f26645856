import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HubApiError,
  commit,
  createBranch,
  createRepo,
  deleteFile,
  downloadFile,
  fileExists,
  listCommits,
  modelInfo,
  pathsInfo,
  uploadFiles,
  whoAmI,
} from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';

// Repo creation and commits through the real @huggingface/hub client.

const ALICE = 'hf_alice_write';
const ALICE_READ = 'hf_alice_read';
const BOB = 'hf_bob';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: HubServer;
let root: string;
let hubUrl: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-up-'));
  server = await startHubServer({
    root,
    tokens: {
      [ALICE]: { name: 'alice', orgs: ['acme'] },
      [ALICE_READ]: { name: 'alice', role: 'read' },
      [BOB]: 'bob',
    },
  });
  hubUrl = server.url;
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

const text = (s: string) => new Blob([s]);
const bytes = (n: number, seed: number) => new Blob([Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) % 256))]);
async function read(repo: string, path: string, revision?: string): Promise<string | undefined> {
  const blob = await downloadFile({ repo, path, revision, hubUrl, accessToken: ALICE });
  return blob ? blob.text() : undefined;
}

describe('accounts and repos', () => {
  it('whoAmI names the token user, its orgs and the token', async () => {
    const me = await whoAmI({ accessToken: ALICE, hubUrl });
    expect(me).toMatchObject({ type: 'user', name: 'alice', orgs: [{ name: 'acme' }], auth: { type: 'access_token' } });
    await expect(whoAmI({ accessToken: 'hf_unknown', hubUrl })).rejects.toMatchObject({ statusCode: 401 });
  });

  it('createRepo creates once (409 after), under the user or an org it belongs to only', async () => {
    const created = await createRepo({ repo: 'alice/blocks', accessToken: ALICE, hubUrl });
    expect(created.repoUrl).toBe(`${hubUrl}/alice/blocks`);
    const again = await createRepo({ repo: 'alice/blocks', accessToken: ALICE, hubUrl }).catch((e) => e);
    expect(again).toBeInstanceOf(HubApiError);
    expect(again.statusCode).toBe(409);
    await expect(createRepo({ repo: 'acme/shared', accessToken: ALICE, hubUrl })).resolves.toMatchObject({ repoUrl: `${hubUrl}/acme/shared` });
    await expect(createRepo({ repo: 'bob/not-yours', accessToken: ALICE, hubUrl })).rejects.toMatchObject({ statusCode: 403 });
    await expect(createRepo({ repo: 'alice/read-only', accessToken: ALICE_READ, hubUrl })).rejects.toMatchObject({ statusCode: 403 });
    // A new repo holds the Hub's "initial commit" with .gitattributes.
    expect(await read('alice/blocks', '.gitattributes')).toContain('*.safetensors filter=lfs');
  });
});

describe('commits', () => {
  it('uploads regular and LFS files in one commit: preupload, LFS batch, PUT, ndjson commit', async () => {
    server.clearRequestLog();
    const weights = bytes(4096, 7);
    const result = (await uploadFiles({
      repo: 'alice/blocks',
      accessToken: ALICE,
      hubUrl,
      commitTitle: 'Add blocks',
      files: [
        { path: 'modular_config.json', content: text('{"blocks":1}') },
        { path: 'blocks/bundle.js', content: text('export const x = 1;\n') },
        { path: 'unet/model.onnx', content: weights },
        { path: 'data/raw.dat', content: new Blob([Buffer.from([1, 0, 2, 0])]) },
      ],
    }))!;
    expect(result.commit.oid).toMatch(/^[0-9a-f]{40}$/);
    expect(server.requestLog.map((r) => `${r.method} ${r.route} ${r.status}`)).toEqual([
      'POST preupload 200',
      'POST lfs-batch 200',
      'PUT lfs-upload 200',
      'PUT lfs-upload 200',
      'POST commit 200',
    ]);
    const info = await pathsInfo({ repo: 'alice/blocks', paths: ['unet/model.onnx', 'data/raw.dat', 'blocks/bundle.js'], revision: result.commit.oid, hubUrl });
    expect(info[0].lfs?.oid).toBe(sha256(new Uint8Array(await weights.arrayBuffer())));
    expect(info[1].lfs?.size).toBe(4); // binary content goes to LFS whatever its name
    expect(info[2].lfs).toBeUndefined();
    const downloaded = await downloadFile({ repo: 'alice/blocks', path: 'unet/model.onnx', revision: result.commit.oid, hubUrl });
    expect(Buffer.from(await downloaded!.arrayBuffer())).toEqual(Buffer.from(await weights.arrayBuffer()));
    expect(await read('alice/blocks', 'blocks/bundle.js')).toBe('export const x = 1;\n');
  });

  it('skips the PUT for LFS content the server already has', async () => {
    server.clearRequestLog();
    await uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, files: [{ path: 'copy/model.onnx', content: bytes(4096, 7) }] });
    expect(server.countRequests({ route: 'lfs-batch' })).toBe(1);
    expect(server.countRequests({ route: 'lfs-upload' })).toBe(0);
    expect(await fileExists({ repo: 'alice/blocks', path: 'copy/model.onnx', hubUrl })).toBe(true);
  });

  it('deletes files in new commits while older commits keep them', async () => {
    const before = (await modelInfo({ name: 'alice/blocks', additionalFields: ['sha'], hubUrl })).sha as string;
    const deleted = (await deleteFile({ repo: 'alice/blocks', path: 'copy/model.onnx', accessToken: ALICE, hubUrl }))!;
    expect(await fileExists({ repo: 'alice/blocks', path: 'copy/model.onnx', hubUrl })).toBe(false);
    expect(await fileExists({ repo: 'alice/blocks', path: 'copy/model.onnx', revision: before, hubUrl })).toBe(true);
    const history = [];
    for await (const c of listCommits({ repo: 'alice/blocks', accessToken: ALICE, hubUrl })) history.push(c);
    expect(history.map((c) => c.title)).toEqual(['Delete copy/model.onnx', 'Add 1 files', 'Add blocks', 'initial commit']);
    expect(history[0].oid).toBe(deleted.commit.oid);
    await expect(deleteFile({ repo: 'alice/blocks', path: 'copy/model.onnx', accessToken: ALICE, hubUrl })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses a commit whose parentCommit is no longer the branch head (412)', async () => {
    const head = (await modelInfo({ name: 'alice/blocks', additionalFields: ['sha'], hubUrl })).sha as string;
    await uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, parentCommit: head, files: [{ path: 'a.txt', content: text('1') }] });
    const stale = await uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, parentCommit: head, files: [{ path: 'a.txt', content: text('2') }] }).catch((e) => e);
    expect(stale).toBeInstanceOf(HubApiError);
    expect(stale.statusCode).toBe(412);
    expect(await read('alice/blocks', 'a.txt')).toBe('1');
  });

  it('commits to a branch without moving main; unknown branches are refused', async () => {
    await createBranch({ repo: 'alice/blocks', branch: 'dev', accessToken: ALICE, hubUrl });
    await uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, branch: 'dev', files: [{ path: 'dev-only.txt', content: text('dev') }] });
    expect(await read('alice/blocks', 'dev-only.txt', 'dev')).toBe('dev');
    expect(await fileExists({ repo: 'alice/blocks', path: 'dev-only.txt', hubUrl })).toBe(false);
    await expect(
      uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, branch: 'nope', files: [{ path: 'x.txt', content: text('x') }] }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });

  it('opens a pull request on refs/pr/<n> when asked', async () => {
    const result = (await uploadFiles({ repo: 'alice/blocks', accessToken: ALICE, hubUrl, isPullRequest: true, files: [{ path: 'pr.txt', content: text('pr') }] }))!;
    expect(result.pullRequestUrl).toBe(`${hubUrl}/alice/blocks/discussions/1`);
    expect(await read('alice/blocks', 'pr.txt', 'refs/pr/1')).toBe('pr');
    expect(await fileExists({ repo: 'alice/blocks', path: 'pr.txt', hubUrl })).toBe(false);
  });

  it('refuses writes from other users and read-only tokens (403)', async () => {
    for (const accessToken of [BOB, ALICE_READ]) {
      const error = await uploadFiles({ repo: 'alice/blocks', accessToken, hubUrl, files: [{ path: 'x.txt', content: text('x') }] }).catch((e) => e);
      expect(error).toBeInstanceOf(HubApiError);
      expect(error.statusCode).toBe(403);
    }
  });

  it('refuses an lfsFile whose object was never uploaded, and content that does not match its oid', async () => {
    const ghost = 'a'.repeat(64);
    const body = [
      JSON.stringify({ key: 'header', value: { summary: 'ghost' } }),
      JSON.stringify({ key: 'lfsFile', value: { path: 'ghost.bin', algo: 'sha256', oid: ghost, size: 10 } }),
    ].join('\n');
    const response = await fetch(`${hubUrl}/api/models/alice/blocks/commit/main`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/x-ndjson' },
      body,
    });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toContain('never uploaded');

    // A client that PUTs other bytes than it announced gets a 422 and nothing is stored.
    const liar: typeof fetch = (input, init) =>
      init?.method === 'PUT' ? fetch(input, { ...init, body: new Blob(['not the announced bytes']) }) : fetch(input, init);
    const error = await commit({
      repo: 'alice/blocks',
      accessToken: ALICE,
      hubUrl,
      title: 'bad upload',
      operations: [{ operation: 'addOrUpdate', path: 'w.safetensors', content: bytes(2048, 3) }],
      fetch: liar,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(HubApiError);
    expect(error.statusCode).toBe(422);
    expect(await server.store.lfsObjectSize(sha256(new Uint8Array(await bytes(2048, 3).arrayBuffer())))).toBeUndefined();
  });
});
