import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubApiError, createRepo, downloadFile, fileExists, listFiles, modelInfo, repoExists, uploadFiles } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';

// Private repos and tokens, answered as the Hub answers them.

const ALICE = 'hf_alice';
const BOB = 'hf_bob';
let server: HubServer;
let root: string;
let hubUrl: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-acl-'));
  server = await startHubServer({ root, tokens: { [ALICE]: 'alice', [BOB]: 'bob' } });
  hubUrl = server.url;
  await createRepo({ repo: 'alice/secret', accessToken: ALICE, hubUrl, visibility: 'private' });
  await uploadFiles({ repo: 'alice/secret', accessToken: ALICE, hubUrl, files: [{ path: 'config.json', content: new Blob(['{"s":1}']) }] });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function statusOf(promise: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof HubApiError) return error.statusCode;
    throw error;
  }
}

describe('private repos', () => {
  it('are readable with the owner token', async () => {
    const blob = await downloadFile({ repo: 'alice/secret', path: 'config.json', hubUrl, accessToken: ALICE });
    expect(await blob!.text()).toBe('{"s":1}');
    const info = await modelInfo({ name: 'alice/secret', hubUrl, accessToken: ALICE });
    expect(info.private).toBe(true);
    expect(await repoExists({ repo: 'alice/secret', hubUrl, accessToken: ALICE })).toBe(true);
  });

  it('answer 401 without a token and 404 with another user token, on every route', async () => {
    const anonymous = [
      statusOf(downloadFile({ repo: 'alice/secret', path: 'config.json', hubUrl })),
      statusOf(modelInfo({ name: 'alice/secret', hubUrl })),
      statusOf(fileExists({ repo: 'alice/secret', path: 'config.json', hubUrl })),
      statusOf(listFiles({ repo: 'alice/secret', hubUrl }).next()),
    ];
    expect(await Promise.all(anonymous)).toEqual([401, 401, 401, 401]);
    const stranger = [
      statusOf(downloadFile({ repo: 'alice/secret', path: 'config.json', hubUrl, accessToken: BOB })),
      statusOf(modelInfo({ name: 'alice/secret', hubUrl, accessToken: BOB })),
      statusOf(listFiles({ repo: 'alice/secret', hubUrl, accessToken: BOB }).next()),
      statusOf(uploadFiles({ repo: 'alice/secret', hubUrl, accessToken: BOB, files: [{ path: 'x', content: new Blob(['x']) }] })),
    ];
    expect(await Promise.all(stranger)).toEqual([404, 404, 404, 404]);
    expect(await repoExists({ repo: 'alice/secret', hubUrl })).toBe(false);
    expect(await repoExists({ repo: 'alice/secret', hubUrl, accessToken: BOB })).toBe(false);
  });

  it('look exactly like missing repos, so their existence does not leak', async () => {
    const hidden = await fetch(`${hubUrl}/api/models/alice/secret`, { headers: { Authorization: `Bearer ${BOB}` } });
    const missing = await fetch(`${hubUrl}/api/models/alice/nothing`, { headers: { Authorization: `Bearer ${BOB}` } });
    expect(hidden.status).toBe(missing.status);
    expect(hidden.headers.get('x-error-code')).toBe('RepoNotFound');
    expect(await hidden.json()).toEqual(await missing.json());
  });
});

describe('tokens', () => {
  it('an unknown token is refused with 401 even on public repos', async () => {
    await createRepo({ repo: 'alice/public', accessToken: ALICE, hubUrl });
    expect(await statusOf(modelInfo({ name: 'alice/public', hubUrl }))).toBe('ok');
    expect(await statusOf(modelInfo({ name: 'alice/public', hubUrl, accessToken: 'hf_forged' }))).toBe(401);
  });

  it('the server refuses tokens the client would refuse to send', async () => {
    await expect(startHubServer({ root, tokens: { secret: 'alice' } })).rejects.toThrow('must start with "hf_"');
  });

  it('the server only listens on loopback', async () => {
    await expect(startHubServer({ root, host: '0.0.0.0' })).rejects.toThrow('only listens on loopback');
  });
});
