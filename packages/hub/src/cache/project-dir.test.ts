import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHubConfig } from '../config/hub-config.js';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';
import { fetchRepoFiles } from './fetch-repo-files.js';
import { HubError } from './hub-errors.js';
import { RemoteCodeLock } from './remote-code-lock.js';

// (5) The project's own files live in $HF_HOME/modular-diffusers/, outside the
// hub/ cache that Python's scan_cache_dir reads; an old <cache>/modular-diffusers/
// is moved out on first use, its trust pins intact.

const REPO = 'org/tiny';
const COMMIT_A = 'a'.repeat(40);
const SHA_1 = '1'.repeat(64);
const SHA_2 = '2'.repeat(64);
let root: string;
let server: HubServer;
let commit: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-project-dir-'));
  server = await startHubServer({ root: join(root, 'store') });
  await mkdir(join(root, 'src', 'unet'), { recursive: true });
  await writeFile(join(root, 'src', 'model_index.json'), '{"a":1}');
  await writeFile(join(root, 'src', 'unet', 'config.json'), '{"b":2}');
  commit = (await server.importFolder(REPO, join(root, 'src'))).commitOid;
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** An HF_HOME with its default hub/ cache, as a user has it. */
function home() {
  const hfHome = join(root, `hf-${++n}`);
  const env = { HF_HOME: hfHome };
  return { env, hfHome, cacheDir: join(hfHome, 'hub'), config: resolveHubConfig({ env }) };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('(5) the project directory', () => {
  it('a load by patterns and a trusted pin leave the hub/ cache with only what Python writes; scanCacheDir finds nothing wrong', async () => {
    const { env, hfHome, cacheDir, config } = home();
    await fetchRepoFiles({ repo: REPO, hubUrl: server.url, env, allowPatterns: ['*.json'] });
    await new RemoteCodeLock(config).trust(REPO, { commit, revision: 'main', files: { 'block.js': SHA_1 } });
    expect((await readdir(cacheDir)).sort()).toEqual(['.locks', 'models--org--tiny']);
    expect((await scanCacheDir(cacheDir)).warnings).toEqual([]);
    expect(config.projectDir).toBe(join(hfHome, 'modular-diffusers'));
    expect(await exists(join(config.projectDir, 'remote-code.lock.json'))).toBe(true);
    expect(await readdir(join(config.projectDir, 'listings', 'models--org--tiny'))).toEqual([`${commit}.json`]);
  });

  it('an old <cache>/modular-diffusers/ is merged into the new place once: pins keep their meaning, listings move, the old folder goes', async () => {
    const { env, cacheDir, config } = home();
    const legacy = join(cacheDir, 'modular-diffusers');
    await mkdir(join(legacy, 'listings', 'models--org--tiny'), { recursive: true });
    // A version-1 pin (bundle hashes only) and a pin that the new place also has.
    await writeFile(
      join(legacy, 'remote-code.lock.json'),
      JSON.stringify({
        version: 1,
        repos: {
          'org/old': { commit: COMMIT_A, files: { 'block.js': SHA_1 }, pinnedAt: '2026-01-01T00:00:00.000Z' },
          'org/both': { commit: COMMIT_A, files: { 'block.js': SHA_1 }, pinnedAt: '2026-01-01T00:00:00.000Z' },
        },
      }),
    );
    await writeFile(join(legacy, 'remote-code.lock.json.lock'), '');
    // A listing the old version wrote after a pattern load.
    const listing = { repo: REPO, commit, files: [{ path: 'model_index.json', size: 7, etag: 'b'.repeat(40) }, { path: 'unet/config.json', size: 7, etag: 'c'.repeat(40) }] };
    await writeFile(join(legacy, 'listings', 'models--org--tiny', `${commit}.json`), JSON.stringify(listing));
    const lock = new RemoteCodeLock(config);
    await mkdir(config.projectDir, { recursive: true });
    await writeFile(lock.path, JSON.stringify({ version: 2, repos: { 'org/both': { commit: 'd'.repeat(40), revision: 'main', files: { 'block.js': SHA_2 }, trustedAt: '2026-06-01T00:00:00.000Z' } } }));

    const pins = await lock.read();
    expect(pins['org/old']).toEqual({ commit: COMMIT_A, revision: null, files: { 'block.js': SHA_1 }, trustedAt: '2026-01-01T00:00:00.000Z' });
    expect(pins['org/both']!.commit).toBe('d'.repeat(40));
    // The migrated version-1 pin still holds its bundle and still records what it lacked for the same commit.
    expect(await lock.verify('org/old', { commit: COMMIT_A, revision: 'main', files: { 'block.js': SHA_1, 'modular_config.json': SHA_2 } })).toMatchObject({ status: 'pinned' });
    await expect(lock.verify('org/old', { commit: COMMIT_A, revision: 'main', files: { 'block.js': SHA_2 } })).rejects.toThrow(/altered/);
    expect(await exists(legacy)).toBe(false);
    expect(JSON.parse(await readFile(join(config.projectDir, 'listings', 'models--org--tiny', `${commit}.json`), 'utf8'))).toEqual(listing);
    expect((await scanCacheDir(cacheDir)).warnings).toEqual([]);
  });

  it('listings moved from the old place are used: a cached pattern load needs no tree request', async () => {
    const { env, cacheDir } = home();
    const first = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, env: { HF_HOME: join(root, 'elsewhere') }, cacheDir, allowPatterns: ['*.json'] });
    // Put the listing where an old version kept it.
    const oldListings = join(cacheDir, 'modular-diffusers', 'listings');
    await mkdir(join(oldListings, 'models--org--tiny'), { recursive: true });
    await writeFile(join(oldListings, 'models--org--tiny', `${first.commit}.json`), await readFile(join(root, 'elsewhere', 'modular-diffusers', 'listings', 'models--org--tiny', `${first.commit}.json`)));
    server.clearRequestLog();
    const again = await fetchRepoFiles({ repo: REPO, hubUrl: server.url, env, allowPatterns: ['*.json'] });
    expect(again.files.map((f) => f.path)).toEqual(first.files.map((f) => f.path));
    expect(server.countRequests()).toBe(0);
    expect(await exists(join(cacheDir, 'modular-diffusers'))).toBe(false);
  });

  it('a damaged old lock is an error naming it, and is left in place (it is a trust record)', async () => {
    const { cacheDir, config } = home();
    const legacyLock = join(cacheDir, 'modular-diffusers', 'remote-code.lock.json');
    await mkdir(join(cacheDir, 'modular-diffusers'), { recursive: true });
    await writeFile(legacyLock, '{ nope');
    const error = await new RemoteCodeLock(config).read().catch((e) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error.message).toContain(legacyLock);
    expect(await readFile(legacyLock, 'utf8')).toBe('{ nope');
  });
});
