import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRepo, listFiles, repoExists, whoAmI } from '@huggingface/hub';
import { afterEach, describe, expect, it } from 'vitest';
import { cliVersion, runCli } from '../program.js';
import { loopbackEndpoint, waitForLocalHub } from '../wait-for-local-hub.js';
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

  it('--seed tiny-sdxl puts modular-diffusers/tiny-sdxl on the Hub before it listens, once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    const lines: string[] = [];
    const server = await serveHub(root, { port: 0, host: '127.0.0.1', seed: ['tiny-sdxl'], log: (l) => lines.push(l) });
    try {
      expect(lines[0]).toMatch(/^Seeded modular-diffusers\/tiny-sdxl@[0-9a-f]{8} \(\d+ files\)\.$/);
      const files: string[] = [];
      for await (const f of listFiles({ repo: 'modular-diffusers/tiny-sdxl', hubUrl: server.url, recursive: true })) files.push(f.path);
      expect(files).toEqual(expect.arrayContaining(['model_index.json', 'unet/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/vocab.json']));
    } finally {
      await server.close();
    }
    const again: string[] = [];
    const second = await serveHub(root, { port: 0, host: '127.0.0.1', seed: ['tiny-sdxl'], log: (l) => again.push(l) });
    await second.close();
    expect(again).toEqual(['modular-diffusers/tiny-sdxl is already on this Hub (seed tiny-sdxl); kept as it is.']);
    const bad = capture();
    expect(await runCli(['node', 'modular', 'hub', 'serve', root, '--seed', 'sdxl-base'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/unknown seed 'sdxl-base'; the seeds are: tiny-sdxl/);
  });

  it('a port in use says so and what to do, instead of a raw EADDRINUSE', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    const first = await serveHub(root, { port: 0, host: '127.0.0.1' });
    try {
      const second = capture();
      expect(await runCli(['node', 'modular', 'hub', 'serve', root, '--port', String(first.port)], second.io)).toBe(2);
      expect(second.err.join('')).toBe(
        `modular: Port ${first.port} on 127.0.0.1 is already in use (another \`modular hub serve\`?). Stop that one, or pick another port with --port (0 picks a free one) and set HF_ENDPOINT to match.\n`,
      );
    } finally {
      await first.close();
    }
  });

  it('stops when its parent goes away, as `npx modular hub serve ... &` then `kill $!` does', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    const main = fileURLToPath(new URL('../main.ts', import.meta.url));
    // A parent that starts the server, reports its pid once it listens, and exits (as npx does when killed).
    const serverScript = join(root, 'serve.mjs');
    await writeFile(
      serverScript,
      `const { main } = await import(${JSON.stringify(pathToFileURL(main).href)});\n` +
        `process.exitCode = await main(['node', 'modular', 'hub', 'serve', ${JSON.stringify(join(root, 'hub'))}, '--port', '0']);\n`,
    );
    const parentScript = join(root, 'parent.cjs');
    await writeFile(
      parentScript,
      // The server writes to a file, not to a pipe that closes with the parent (a write there would end it).
      `const { spawn } = require('node:child_process');\n` +
        `const { openSync, readFileSync } = require('node:fs');\n` +
        `const log = ${JSON.stringify(join(root, 'serve.log'))};\n` +
        `const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', ${JSON.stringify(serverScript)}], { stdio: ['ignore', openSync(log, 'w'), 'inherit'] });\n` +
        `const timer = setInterval(() => { if (readFileSync(log, 'utf8').includes('Hub serving')) { clearInterval(timer); console.log('PID ' + child.pid); process.exit(0); } }, 50);\n`,
    );
    const started = await new Promise<string>((done, fail) => {
      const p = spawn(process.execPath, [parentScript], { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.on('error', fail);
      p.on('close', () => done(out));
    });
    const pid = Number(/PID (\d+)/.exec(started)?.[1]);
    expect(pid).toBeGreaterThan(0);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 20_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive()) process.kill(pid, 'SIGKILL');
    expect(alive()).toBe(false);
  });
});

describe('modular --version and the wait for a local Hub', () => {
  it('--version prints the version of the CLI package', async () => {
    const c = capture();
    expect(await runCli(['node', 'modular', '--version'], c.io)).toBe(0);
    expect(c.out.join('')).toBe(`${cliVersion()}\n`);
    expect(cliVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('commands wait for a loopback HF_ENDPOINT that is still starting, and say so when nothing answers', async () => {
    expect(loopbackEndpoint({ HF_ENDPOINT: 'https://huggingface.co' })).toBeNull();
    expect(loopbackEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:8080' })).toEqual({ host: '127.0.0.1', port: 8080, url: 'http://127.0.0.1:8080' });
    const root = await mkdtemp(join(tmpdir(), 'modular-cli-hub-'));
    dirs.push(root);
    // A free port: take one, then release it.
    const probe = await serveHub(root, { port: 0, host: '127.0.0.1' });
    const port = probe.port;
    await probe.close();
    const log: string[] = [];
    const later = new Promise<Awaited<ReturnType<typeof serveHub>>>((done) => setTimeout(() => done(serveHub(root, { port, host: '127.0.0.1' })), 600));
    await waitForLocalHub({ HF_ENDPOINT: `http://127.0.0.1:${port}` }, (l) => log.push(l), 20_000);
    expect(log).toEqual([`Waiting for the Hub at http://127.0.0.1:${port} (HF_ENDPOINT) to start ...\n`]);
    await (await later).close();
    const none: string[] = [];
    await waitForLocalHub({ HF_ENDPOINT: `http://127.0.0.1:${port}` }, (l) => none.push(l), 300);
    expect(none[1]).toMatch(/^Nothing answers at http:\/\/127\.0\.0\.1:\d+ \(HF_ENDPOINT\)\. Start the Hub with `npx modular hub serve/);
  });
});
