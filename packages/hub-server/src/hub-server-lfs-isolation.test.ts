import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepo, downloadFile, uploadFiles } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';

// (9) LFS objects are stored once per server; who may use one is decided per repo.
// Alice knows the sha256 of Bob's private model file; none of that lets her read
// it, or learn that the server has it.

const ALICE = 'hf_alice';
const BOB = 'hf_bob';
const secret = randomBytes(30_000);
const secretOid = createHash('sha256').update(secret).digest('hex');
const unknownOid = createHash('sha256').update('nobody has this').digest('hex');
let server: HubServer;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-lfs-iso-'));
  server = await startHubServer({ root: join(root, 'store'), tokens: { [ALICE]: 'alice', [BOB]: 'bob' }, lfsThresholdBytes: 1000 });
  await mkdir(join(root, 'bob'), { recursive: true });
  await writeFile(join(root, 'bob', 'weights.bin'), secret);
  await server.importFolder('bob/private-model', join(root, 'bob'), { private: true });
  await createRepo({ repo: 'alice/public', accessToken: ALICE, hubUrl: server.url });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

const batch = (repo: string, operation: 'upload' | 'download', oid: string, size: number, token?: string) =>
  fetch(`${server.url}/${repo}.git/info/lfs/objects/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.git-lfs+json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ operation, transfers: ['basic'], objects: [{ oid, size }] }),
  });

const commitPointer = (oid: string, size: number) =>
  fetch(`${server.url}/api/models/alice/public/commit/main`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/x-ndjson' },
    body: [
      JSON.stringify({ key: 'header', value: { summary: 'point at it' } }),
      JSON.stringify({ key: 'lfsFile', value: { path: 'stolen.bin', algo: 'sha256', oid, size } }),
    ].join('\n'),
  });

describe('(9) LFS objects across repos', () => {
  it('a commit pointing at another repo’s LFS object is refused exactly like one pointing at nothing', async () => {
    const stolen = await commitPointer(secretOid, secret.byteLength);
    const nothing = await commitPointer(unknownOid, secret.byteLength);
    expect(stolen.status).toBe(422);
    expect(nothing.status).toBe(422);
    const [a, b] = [((await stolen.json()) as { error: string }).error, ((await nothing.json()) as { error: string }).error];
    expect(a.replace(secretOid, 'X')).toBe(b.replace(unknownOid, 'X'));
    expect((await fetch(`${server.url}/alice/public/resolve/main/stolen.bin`)).status).toBe(404);
  });

  it('the upload batch asks for the bytes of an object another repo stored, as for an unknown one (no existence oracle)', async () => {
    const known = (await (await batch('alice/public', 'upload', secretOid, secret.byteLength, ALICE)).json()) as { objects: Record<string, unknown>[] };
    const unknown = (await (await batch('alice/public', 'upload', unknownOid, secret.byteLength, ALICE)).json()) as { objects: Record<string, unknown>[] };
    expect(known.objects[0]).toHaveProperty('actions.upload.href');
    expect(Object.keys(known.objects[0]!).sort()).toEqual(Object.keys(unknown.objects[0]!).sort());
  });

  it('a download batch hands out links only for objects the repo’s commits reference, anonymous or not', async () => {
    for (const token of [undefined, ALICE]) {
      const answer = (await (await batch('alice/public', 'download', secretOid, secret.byteLength, token)).json()) as { objects: Record<string, unknown>[] };
      expect(answer.objects[0]).toMatchObject({ error: { code: 404 } });
      expect(answer.objects[0]).not.toHaveProperty('actions');
    }
    // Bob, through his own repo, gets the link; without his token the private repo is not found.
    const own = (await (await batch('bob/private-model', 'download', secretOid, secret.byteLength, BOB)).json()) as { objects: { actions?: { download: { href: string } } }[] };
    const link = own.objects[0]!.actions!.download.href;
    expect(Buffer.from(await (await fetch(link)).arrayBuffer())).toEqual(secret);
    expect((await batch('bob/private-model', 'download', secretOid, secret.byteLength)).status).toBe(401);
  });

  it('whoever really has the bytes may upload them to their own repo and use them', async () => {
    await uploadFiles({ repo: 'alice/public', accessToken: ALICE, hubUrl: server.url, files: [{ path: 'mine.bin', content: new Blob([secret]) }] });
    const blob = await downloadFile({ repo: 'alice/public', path: 'mine.bin', hubUrl: server.url });
    expect(Buffer.from(await blob!.arrayBuffer())).toEqual(secret);
    const answer = (await (await batch('alice/public', 'download', secretOid, secret.byteLength)).json()) as { objects: Record<string, unknown>[] };
    expect(answer.objects[0]).toHaveProperty('actions.download.href');
  });
});
