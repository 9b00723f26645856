/**
 * The second wall, tested from where an escape would land: code appended to the sandbox
 * process's own program runs in that process's main realm (outside the vm context, with
 * `require` and `process` in reach), after SES and the bundle loaded, exactly as the sandbox
 * runs in production. Whatever a vm escape could do there, it cannot read the user's files or
 * the HF cache, write a file, start a program or a thread, load an addon, compile a string, or
 * see the host's environment.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox } from './create-sandbox.js';
import { SANDBOX_LAUNCHER_VARIABLE, sandboxProcessFlags } from './sandbox-process.js';
import { sandboxProcessSourceWith } from './sandbox-process-source.js';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-second-wall-'));
const home = join(dir, 'home');
const hfCache = join(dir, 'hf-cache', 'hub');
const secret = join(home, '.ssh', 'id_ed25519');
const cachedToken = join(dir, 'hf-cache', 'token');
const canary = join(dir, 'written-by-the-sandbox.txt');
mkdirSync(join(home, '.ssh'), { recursive: true });
mkdirSync(join(hfCache, 'models--org--name', 'snapshots', 'abc'), { recursive: true });
writeFileSync(secret, 'PRIVATE KEY');
writeFileSync(cachedToken, 'hf_secret_token');
writeFileSync(join(hfCache, 'models--org--name', 'snapshots', 'abc', 'config.json'), '{}');

// A server on the host's loopback: what an escape reaches over the network, which Node 20's permission model leaves open.
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const NETWORK_NAMESPACE = 'unshare --user --map-root-user --net';
const canUnshare = process.platform === 'linux' && spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true']).status === 0;

/** Runs the escaped code in a real sandbox process and returns what it reported. */
async function escapeReport(launcher?: string): Promise<Record<string, string>> {
  const previous = { token: process.env.HF_TOKEN, launcher: process.env[SANDBOX_LAUNCHER_VARIABLE] };
  process.env.HF_TOKEN = 'hf_host_secret';
  // Without a launcher even when the machine running the tests sets one: the open network is checked too.
  process.env[SANDBOX_LAUNCHER_VARIABLE] = launcher ?? '';
  const logs: string[] = [];
  let reported!: () => void;
  const report = new Promise<void>((resolve) => (reported = resolve));
  try {
    const sandbox = await startSandbox(
      {
        bundle: { source: `(() => { defineBlocks(1, () => ({ probe: async () => { await capabilities.hold(); return 'probed'; } })); })();`, filename: 'wall.js' },
        capabilities: { hold: () => report.then(() => null) },
        limits: { memoryMb: 64, timeoutMs: 10_000, callTimeoutMs: 60_000 },
        onLog: (_level, message) => {
          logs.push(message);
          reported();
        },
      },
      sandboxProcessSourceWith(escapedCode(port)),
    );
    expect(await sandbox.call('probe', null)).toBe('probed');
    await sandbox.dispose();
  } finally {
    for (const [name, value] of [['HF_TOKEN', previous.token], [SANDBOX_LAUNCHER_VARIABLE, previous.launcher]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  expect(logs).toHaveLength(1);
  return JSON.parse(logs[0]!) as Record<string, string>;
}

function expectWalledIn(outcome: Record<string, string>): void {
  const attempts = Object.entries(outcome).filter(([key]) => !['permissions', 'env', 'execArgv', 'network'].includes(key));
  expect(attempts.length).toBeGreaterThan(15);
  for (const [name, result] of attempts) expect(result, name).toMatch(/^denied: /);
  expect(outcome['read the user secret']).toBe('denied: ERR_ACCESS_DENIED');
  expect(outcome['write a file']).toBe('denied: ERR_ACCESS_DENIED');
  expect(outcome['spawn a program']).toBe('denied: ERR_ACCESS_DENIED');
  expect(outcome['start a worker']).toBe('denied: ERR_ACCESS_DENIED');
  expect(outcome['compile a string']).toBe('denied: EvalError');
  expect(outcome.permissions).toBe('fs.read=false fs.write=false child=false worker=false');
  expect(outcome.env).toBe('');
  expect(outcome.execArgv).toBe('');
  expect(existsSync(canary)).toBe(false);
  expect(existsSync(`${canary}.d`)).toBe(false);
}

// Runs in the sandbox process's main realm when the host calls the bundle's `probe` export; it
// answers with one log line (the only way out it has that the host accepts during a call). The
// export waits on a capability the test answers once that line arrived, so the line is in turn.
const escapedCode = (port: number) => String.raw`
process.prependListener('message', async (m) => {
  if (!m || m.type !== 'call' || m.target !== 'probe') return;
  const paths = ${JSON.stringify({ secret, cachedToken, hfCache, home, canary, realHome: homedir(), cwd: process.cwd() })};
  const out = {};
  const attempt = (name, fn) => { try { out[name] = 'ALLOWED: ' + String(fn()).slice(0, 60); } catch (e) { out[name] = 'denied: ' + (e.code || e.name); } };
  const fs = require('node:fs');
  attempt('read the user secret', () => fs.readFileSync(paths.secret, 'utf8'));
  attempt('read the HF token file', () => fs.readFileSync(paths.cachedToken, 'utf8'));
  attempt('list the HF cache', () => fs.readdirSync(paths.hfCache).join());
  attempt('read a cached snapshot file', () => fs.readFileSync(paths.hfCache + '/models--org--name/snapshots/abc/config.json', 'utf8'));
  attempt('list the home folder', () => fs.readdirSync(paths.realHome).join());
  attempt('list the host working directory', () => fs.readdirSync(paths.cwd).join());
  attempt('read /etc/passwd', () => fs.readFileSync('/etc/passwd', 'utf8'));
  attempt('read /proc/self/environ', () => fs.readFileSync('/proc/self/environ', 'utf8'));
  try { out['read through fs/promises'] = 'ALLOWED: ' + (await require('node:fs/promises').readFile(paths.secret, 'utf8')); } catch (e) { out['read through fs/promises'] = 'denied: ' + (e.code || e.name); }
  try { out['open a file handle'] = 'ALLOWED: ' + String(await require('node:fs/promises').open(paths.secret, 'r')); } catch (e) { out['open a file handle'] = 'denied: ' + (e.code || e.name); }
  attempt('write a file', () => fs.writeFileSync(paths.canary, 'escaped'));
  attempt('create a folder', () => fs.mkdirSync(paths.canary + '.d'));
  attempt('spawn a program', () => require('node:child_process').spawnSync('/bin/sh', ['-c', 'echo escaped > ' + paths.canary]).status);
  attempt('exec a program', () => require('node:child_process').execSync('true'));
  attempt('fork node', () => require('node:child_process').fork('-e'));
  attempt('start a worker', () => new (require('node:worker_threads').Worker)('1', { eval: true }));
  attempt('load an addon', () => process.dlopen({ exports: {} }, paths.home + '/addon.node'));
  attempt('reach internal bindings', () => Object.keys(process.binding('fs')).length);
  attempt('open the inspector', () => { require('node:inspector').open(0); return 'opened'; });
  attempt('start WASI', () => new (require('node:wasi').WASI)({ version: 'preview1', preopens: { '/': '/' } }));
  attempt('compile a string', () => Function('return 1')());
  attempt('compile a string with eval', () => (0, eval)('1'));
  out.permissions = ['fs.read', 'fs.write', 'child', 'worker'].map((scope) => scope + '=' + process.permission.has(scope)).join(' ');
  out.env = Object.keys(process.env).filter((k) => !k.startsWith('NODE_CHANNEL_')).join(',');
  out.execArgv = process.execArgv.filter((a) => a.startsWith('--allow')).join(' ');
  out.network = await new Promise((resolve) => {
    const socket = require('node:net').connect(${port}, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('ALLOWED: connected to the host'); });
    socket.on('error', (e) => resolve('denied: ' + e.code));
  });
  process.send({ type: 'batch', items: [{ kind: 'log', level: 'info', message: JSON.stringify(out) }] });
});
`;

describe('the sandbox process (second wall)', () => {
  test('starts with the permission model and no flag that grants anything back', () => {
    const flags = sandboxProcessFlags({ memoryMb: 128 });
    expect(flags.some((f) => f === '--experimental-permission' || f === '--permission')).toBe(true);
    expect(flags).toContain('--no-addons');
    expect(flags).toContain('--disallow-code-generation-from-strings');
    expect(flags.filter((f) => f.startsWith('--allow'))).toEqual([]);
  });

  test('code running in its own realm, as an escape would, reaches no file, program, thread, addon or secret', async () => {
    const outcome = await escapeReport();
    expectWalledIn(outcome);
    // What stays open on Node 20: the network (SECURITY.md; the launcher below closes it).
    expect(outcome.network).toBe('ALLOWED: connected to the host');
  });

  test.runIf(canUnshare)('under MODULAR_DIFFUSERS_SANDBOX_LAUNCHER with a network namespace, the network is closed too', async () => {
    const outcome = await escapeReport(NETWORK_NAMESPACE);
    expectWalledIn(outcome);
    expect(outcome.network).toMatch(/^denied: E(CONNREFUSED|NETUNREACH|ACCES)/);
  });

  test('a launcher that is not on this machine fails the start with a message naming the variable', async () => {
    const previous = process.env[SANDBOX_LAUNCHER_VARIABLE];
    process.env[SANDBOX_LAUNCHER_VARIABLE] = 'no-such-launcher-xyz --flag';
    try {
      await expect(startSandbox({ bundle: { source: 'defineBlocks(1, () => ({}));', filename: 'x.js' } })).rejects.toThrow(/MODULAR_DIFFUSERS_SANDBOX_LAUNCHER names "no-such-launcher-xyz"/);
    } finally {
      if (previous === undefined) delete process.env[SANDBOX_LAUNCHER_VARIABLE];
      else process.env[SANDBOX_LAUNCHER_VARIABLE] = previous;
    }
  });
});
