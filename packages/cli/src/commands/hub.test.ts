import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepo, repoExists, whoAmI } from '@huggingface/hub';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../program.js';
import { serveHub } from './hub.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe('modular hub serve', () => {
  it('serves a folder that the real @huggingface/hub client can use, with the tokens given', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    const server = await serveHub(root, { port: 0, host: '127.0.0.1', token: { hf_cli_test: 'alice' } });
    try {
      const me = await whoAmI({ hubUrl: server.url, accessToken: 'hf_cli_test' });
      expect(me.name).toBe('alice');
      const credentials = { hubUrl: server.url, accessToken: 'hf_cli_test' };
      expect(await repoExists({ repo: 'alice/demo', ...credentials })).toBe(false);
      await createRepo({ repo: 'alice/demo', ...credentials });
      expect(await repoExists({ repo: 'alice/demo', ...credentials })).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses a file as the folder, with a message that says what to give', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    const file = join(root, 'not-a-folder');
    await writeFile(file, 'x');
    await expect(serveHub(file, { port: 0, host: '127.0.0.1' })).rejects.toThrow(/is a file; give a folder/);
  });

  it('answers bad usage with exit code 2 and a hint, and --help with 0', async () => {
    const bad = capture();
    expect(await runCli(['node', 'modular', 'hub', 'serve', '/tmp/x', '--port', 'abc'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/port must be an integer/);
    const help = capture();
    expect(await runCli(['node', 'modular', 'hub', 'serve', '--help'], help.io)).toBe(0);
    expect(help.out.join('')).toMatch(/Serve a folder as a Hub/);
    const token = capture();
    expect(await runCli(['node', 'modular', 'hub', 'serve', '/tmp/x', '--token', 'nouser'], token.io)).toBe(2);
    expect(token.err.join('')).toMatch(/expected TOKEN=USER/);
  });
});
