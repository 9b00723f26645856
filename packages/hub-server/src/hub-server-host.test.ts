import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from './hub-server.js';

// (10) A loopback server answers only to its own names (no DNS rebinding), builds
// links only from them, and checks the caller before it reads a body.

const ALICE = 'hf_alice';
let server: HubServer;
let proxied: HubServer;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-host-'));
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'src', 'model.bin'), Buffer.alloc(5000, 7));
  server = await startHubServer({ root: join(root, 'store'), tokens: { [ALICE]: 'alice' }, lfsThresholdBytes: 1000 });
  await server.importFolder('alice/public', join(root, 'src'));
  await server.importFolder('alice/private', join(root, 'src'), { private: true });
  proxied = await startHubServer({ root: join(root, 'store'), tokens: { [ALICE]: 'alice' }, publicUrl: 'https://hub.internal', lfsRedirect: true });
});

afterAll(async () => {
  await server?.close();
  await proxied?.close();
  await rm(root, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request with any Host header (fetch does not let a caller set it), optionally a body of `bodyBytes`. */
function send(target: HubServer, options: { path: string; method?: string; host?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
  const port = new URL(target.url).port;
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, path: options.path, method: options.method ?? 'GET', headers: { Host: options.host ?? `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    // The server may answer and close before the whole body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : fail(error)));
    req.end(options.body);
  });
}

describe('(10) the Host allow-list', () => {
  it('refuses a foreign Host (a DNS-rebinding page) on every route, public repos included', async () => {
    for (const path of ['/api/models/alice/public', '/alice/public/resolve/main/model.bin', '/api/models/alice/public/tree/main', '/api/whoami-v2']) {
      const answer = await send(server, { path, host: `evil.example:${new URL(server.url).port}` });
      expect(answer.status, path).toBe(403);
      expect(answer.headers['x-error-code']).toBe('ForbiddenHost');
      expect(answer.body).not.toContain('model.bin');
    }
    expect((await send(server, { path: '/api/models/alice/public', host: 'localhost.evil.example' })).status).toBe(403);
    expect((await send(server, { path: '/api/models/alice/public', host: '127.0.0.1@evil.example' })).status).toBe(403);
  });

  it('answers loopback names on any port, and the public URL’s host, which its links then use', async () => {
    for (const host of ['127.0.0.1:1234', 'localhost', 'LOCALHOST:9', '[::1]:8080', '127.5.6.7']) {
      expect((await send(server, { path: '/api/models/alice/public', host })).status, host).toBe(200);
    }
    const redirect = await send(proxied, { path: '/alice/public/resolve/main/model.bin', host: 'hub.internal' });
    expect(redirect.status).toBe(302);
    expect(String(redirect.headers.location)).toMatch(/^https:\/\/hub\.internal\/_lfs\/objects\//);
    // Through a loopback name the links stay on it.
    const local = await send(proxied, { path: '/alice/public/resolve/main/model.bin', host: 'localhost:7' });
    expect(String(local.headers.location)).toMatch(/^http:\/\/localhost:7\/_lfs\/objects\//);
    expect((await send(proxied, { path: '/api/models/alice/public', host: 'other.internal' })).status).toBe(403);
  });
});

describe('(10) bodies are read after the caller is checked, within limits', () => {
  const batchPath = (repo: string) => `/${repo}.git/info/lfs/objects/batch`;
  const big = Buffer.alloc(70 * 1024 * 1024, 0x20);

  it('an anonymous LFS batch on a private repo is answered 401 without reading its (huge) body', async () => {
    const answer = await send(server, { path: batchPath('alice/private'), method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
    expect(answer.status).toBe(401);
  });

  it('an authenticated body over the route’s limit is a 413 that closes the connection', async () => {
    const json = Buffer.from(JSON.stringify({ operation: 'download', objects: Array.from({ length: 20_000 }, () => ({ oid: 'a'.repeat(64), size: 1 })) }));
    expect(json.byteLength).toBeGreaterThan(1024 * 1024);
    const answer = await send(server, { path: batchPath('alice/private'), method: 'POST', headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/json' }, body: json });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-error-code']).toBe('PayloadTooLarge');
  });

  it('create-repo wants a token before it reads anything', async () => {
    const answer = await send(server, { path: '/api/repos/create', method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
    expect(answer.status).toBe(401);
  });
});
