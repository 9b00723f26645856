/**
 * `npm run test:interop`: the real Python `huggingface_hub` against this
 * project's local Hub server and a cache shared with this project's client.
 * It needs a Python that can `import huggingface_hub` (`pip install huggingface_hub`);
 * without one it says so and skips (exit 0). CI runs the Node side of the same
 * scenarios in `npm test` (packages/hub/src/cache/cache-writers.test.ts races a
 * scripted Python-style writer).
 *
 * Settings: MODULAR_DIFFUSERS_PYTHON (the interpreter; default python3, then
 * /usr/bin/python3), INTEROP_BLOB_MB (default 100) and INTEROP_ROUNDS (default 10)
 * for the concurrent download of one blob by Python and Node.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchRepoFiles, RemoteCodeLock, resolveHubConfig } from '@modular-diffusers/hub';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { acquireOsLock } from '../packages/hub/src/cache/os-file-lock.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLIENT = join(here, 'interop', 'hf_client.py');
const BLOB_MB = Number(process.env.INTEROP_BLOB_MB ?? 100);
const ROUNDS = Number(process.env.INTEROP_ROUNDS ?? 10);
const TOKEN = 'hf_interop_alice';

function findPython(): string | undefined {
  const candidates = process.env.MODULAR_DIFFUSERS_PYTHON ? [process.env.MODULAR_DIFFUSERS_PYTHON] : ['python3', '/usr/bin/python3', 'python'];
  return candidates.find((python) => spawnSync(python, ['-c', 'import huggingface_hub, filelock'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();
if (!python) {
  console.log(
    'test:interop SKIPPED: no Python with huggingface_hub found (tried ' +
      (process.env.MODULAR_DIFFUSERS_PYTHON ?? 'python3, /usr/bin/python3, python') +
      '). Install it with `pip install huggingface_hub` (or set MODULAR_DIFFUSERS_PYTHON) to run the Python interop scenarios; ' +
      '`npm test` covers the Node side.',
  );
  process.exit(0);
}

/** Runs one step of hf_client.py and returns its JSON answer. */
function py<T = Record<string, unknown>>(step: Record<string, unknown>, env: Record<string, string>): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(python!, [CLIENT, JSON.stringify(step)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`python ${String(step.kind)} exited ${code}:\n${err.trim().split('\n').slice(-8).join('\n')}`));
      try {
        done(JSON.parse(out.trim().split('\n').at(-1)!) as T);
      } catch {
        fail(new Error(`python ${String(step.kind)} printed no JSON: ${out}\n${err}`));
      }
    });
  });
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function pythonIsWriting(blobs: string, etag: string): boolean {
  try {
    return readdirSync(blobs).some((name) => name.startsWith(`${etag}.`) && name.endsWith('.incomplete'));
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('Python never started writing the blob');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function check(condition: unknown, message: string): void {
  if (!condition) throw new Error(message);
}

const results: { name: string; ok: boolean; ms: number; note: string }[] = [];
async function scenario(name: string, run: () => Promise<string | void>): Promise<void> {
  const started = Date.now();
  try {
    const note = (await run()) ?? '';
    results.push({ name, ok: true, ms: Date.now() - started, note });
  } catch (error) {
    results.push({ name, ok: false, ms: Date.now() - started, note: (error as Error).message.split('\n').join(' | ') });
  }
}

const root = await mkdtemp(join(tmpdir(), 'md-interop-'));
let server: HubServer | undefined;
try {
  const hfHome = join(root, 'hf-home');
  const cacheDir = join(hfHome, 'hub');
  server = await startHubServer({ root: join(root, 'store'), tokens: { [TOKEN]: 'alice' }, lfsThresholdBytes: 64 * 1024 });
  const src = join(root, 'src');
  await mkdir(join(src, 'unet'), { recursive: true });
  await writeFile(join(src, 'model_index.json'), '{"_class_name":"StableDiffusionXLPipeline"}\n');
  await writeFile(join(src, 'unet', 'config.json'), '{"sample_size":8}\n');
  const weights = randomBytes(512 * 1024);
  await writeFile(join(src, 'unet', 'model.onnx'), weights);
  const seeded = await server.importFolder('alice/interop', src, { tag: 'v1.0' });
  const big = join(root, 'big');
  await mkdir(big, { recursive: true });
  await writeFile(join(big, 'weights.bin'), randomBytes(BLOB_MB * 1024 * 1024));
  const bigCommit = (await server.importFolder('alice/big', big)).commitOid;
  const bigSha = await sha256OfFile(join(big, 'weights.bin'));

  const env = { HF_ENDPOINT: server.url, HF_HOME: hfHome, HF_HUB_CACHE: cacheDir, HF_TOKEN: TOKEN, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_PROGRESS_BARS: '1' };
  const offline = { ...env, HF_HUB_OFFLINE: '1' };
  const node = { hubUrl: server.url, env: { HF_HOME: hfHome, HF_TOKEN: TOKEN } };
  const version = await py<{ huggingface_hub: string; filelock: string; python: string }>({ kind: 'version' }, env);
  console.log(`test:interop with Python ${version.python} (${python}), huggingface_hub ${version.huggingface_hub}, filelock ${version.filelock}; ${BLOB_MB} MB x ${ROUNDS} rounds`);

  await scenario('Python downloads (regular, LFS, tag, snapshot)', async () => {
    const file = await py<{ real: string }>({ kind: 'download', repo: 'alice/interop', file: 'unet/model.onnx' }, env);
    check((await sha256OfFile(file.real)) === createHash('sha256').update(weights).digest('hex'), 'LFS bytes differ');
    await py({ kind: 'download', repo: 'alice/interop', file: 'unet/config.json', revision: 'v1.0' }, env);
    await py({ kind: 'snapshot', repo: 'alice/interop', allow: ['*.json'] }, env);
  });

  await scenario('(2) model_info(files_metadata=True) has sizes and LFS', async () => {
    const info = await py<Record<string, { size: number; lfs: string | null }>>({ kind: 'info-blobs', repo: 'alice/interop' }, env);
    check(info['unet/model.onnx']?.size === weights.byteLength && info['unet/model.onnx']?.lfs, `no LFS info: ${JSON.stringify(info['unet/model.onnx'])}`);
  });

  await scenario('(1) a missing file: EntryNotFound, a .no_exist marker, offline answers "missing"', async () => {
    const missing = await py<{ error: string | null }>({ kind: 'missing', repo: 'alice/interop', file: 'scheduler/missing.json' }, env);
    check(missing.error !== null, 'no error for a missing file');
    check(existsSync(join(cacheDir, 'models--alice--interop', '.no_exist', seeded.commitOid, 'scheduler', 'missing.json')), 'no .no_exist marker');
    const cached = await py<{ noExist: boolean }>({ kind: 'cached-missing', repo: 'alice/interop', file: 'scheduler/missing.json' }, offline);
    check(cached.noExist, 'offline lookup does not know the file is missing');
    // This project honours Python's marker: no request.
    server!.clearRequestLog();
    const error = await fetchRepoFiles({ repo: 'alice/interop', files: ['scheduler/missing.json'], ...node }).catch((e: Error) => e);
    check(error instanceof Error && error.name === 'EntryNotFoundError', `Node: ${String(error)}`);
    check(server!.countRequests() === 0, `Node asked the server ${server!.countRequests()} times`);
  });

  await scenario('Python -> Node: Node reads what Python downloaded, offline', async () => {
    server!.clearRequestLog();
    const got = await fetchRepoFiles({ repo: 'alice/interop', files: ['unet/model.onnx', 'unet/config.json'], localFilesOnly: true, ...node });
    check(got.commit === seeded.commitOid, 'another commit');
    check(server!.countRequests() === 0, 'requests while offline');
  });

  await scenario('Node -> Python: Python reads what Node downloaded, offline', async () => {
    await fetchRepoFiles({ repo: 'alice/interop', revision: 'v1.0', allowPatterns: ['*'], ...node });
    const file = await py<{ path: string }>({ kind: 'download', repo: 'alice/interop', file: 'model_index.json', revision: 'v1.0' }, offline);
    check(file.path.includes(seeded.commitOid), file.path);
  });

  await scenario('(3)(4) create_repo(exist_ok=True), upload_file README.md, upload_folder, create_commit(create_pr=True)', async () => {
    const created = await py<{ urls: string[] }>({ kind: 'create-repo', repo: 'alice/uploaded' }, env);
    check(created.urls.every((u) => u.endsWith('/alice/uploaded')), created.urls.join(', '));
    const folder = join(root, 'upload');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'README.md'), '---\nlicense: mit\n---\n# Folder card\n');
    await writeFile(join(folder, 'weights.bin'), randomBytes(200 * 1024));
    const uploaded = await py<{ files: string[]; pr: string }>({ kind: 'upload', repo: 'alice/uploaded', folder }, env);
    check(uploaded.files.includes('README.md') && uploaded.files.includes('weights.bin'), uploaded.files.join(', '));
    check(/discussions\/1$/.test(uploaded.pr), uploaded.pr);
    const back = await fetchRepoFiles({ repo: 'alice/uploaded', files: ['weights.bin'], ...node });
    check(back.files[0]!.size === 200 * 1024, 'Node cannot read the upload');
  });

  await scenario('(5) scan_cache_dir finds the shared cache clean after Node wrote listings and a trust pin', async () => {
    await new RemoteCodeLock(resolveHubConfig({ env: node.env })).trust('alice/interop', { commit: seeded.commitOid, revision: 'main', files: { 'block.js': 'a'.repeat(64) } });
    const scan = await py<{ warnings: string[]; repos: string[] }>({ kind: 'scan', cache: cacheDir }, env);
    check(scan.warnings.length === 0, scan.warnings.join(' | '));
    check(scan.repos.includes('alice/interop'), scan.repos.join(', '));
    check(!(await readdir(cacheDir)).includes('modular-diffusers'), 'project files inside hub/');
  });

  await scenario('(6) Python filelock and this project’s OS lock exclude each other', async () => {
    const path = join(cacheDir, '.locks', 'probe.lock');
    const held = await acquireOsLock(path);
    const blocked = await py<{ acquired: boolean }>({ kind: 'lock-probe', path }, env);
    await held.release();
    const free = await py<{ acquired: boolean }>({ kind: 'lock-probe', path }, env);
    check(!blocked.acquired && free.acquired, `held: ${blocked.acquired}, released: ${free.acquired}`);
  });

  await scenario(`(6) Python and Node download one ${BLOB_MB} MB blob at once, ${ROUNDS} rounds: every blob hashes to its name`, async () => {
    const repoDir = join(cacheDir, 'models--alice--big');
    const counts = { node: 0, python: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      await rm(repoDir, { recursive: true, force: true });
      server!.setFaults([{ kind: 'slow', route: 'resolve', method: 'GET', path: 'weights.bin', delayMs: 1, chunkBytes: 1024 * 1024 }]);
      const python = py({ kind: 'download', repo: 'alice/big', file: 'weights.bin', revision: bigCommit }, env);
      // Every other round Node starts only once Python is writing, so each side meets the other's lock.
      // (Python 1.x writes `<etag>.<random>.incomplete`, older versions `<etag>.incomplete`.)
      if (round % 2 === 1) await waitFor(() => pythonIsWriting(join(repoDir, 'blobs'), bigSha), 60_000);
      const [ours] = await Promise.all([fetchRepoFiles({ repo: 'alice/big', revision: bigCommit, files: ['weights.bin'], ...node }), python]);
      server!.setFaults([]);
      const blob = join(repoDir, 'blobs', bigSha);
      check((await sha256OfFile(blob)) === bigSha, `round ${round}: the committed blob does not hash to its name`);
      check((await readdir(join(repoDir, 'blobs'))).every((n) => !n.endsWith('.incomplete')), `round ${round}: .incomplete left`);
      if (ours.downloaded.length > 0) counts.node++;
      else counts.python++;
    }
    return `transferred by Node ${counts.node}, by Python ${counts.python}`;
  });
} finally {
  await server?.close();
  await rm(root, { recursive: true, force: true });
}

const width = Math.max(...results.map((r) => r.name.length));
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${String(r.ms).padStart(6)} ms  ${r.note}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`test:interop: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
