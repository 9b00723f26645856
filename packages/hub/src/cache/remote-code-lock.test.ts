import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from './hub-errors.js';
import { RemoteCodeChangedError } from './remote-code-lock-errors.js';
import { RemoteCodeLock, type RemoteCodeObservation } from './remote-code-lock.js';

const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);
const SHA_1 = '1'.repeat(64);
const SHA_2 = '2'.repeat(64);
const SHA_3 = '3'.repeat(64);
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'remote-code-lock-'));
});

afterAll(() => rm(cacheDir, { recursive: true, force: true }));

const seen = (commit: string, files: Record<string, string>, revision = 'main'): RemoteCodeObservation => ({ commit, revision, files });

describe('RemoteCodeLock', () => {
  it('pins commit and file hashes; the same commit and bytes pass, anything else is a named change', async () => {
    const lock = new RemoteCodeLock({ projectDir: join(cacheDir, 'project') });
    expect(lock.path).toBe(join(cacheDir, 'project', 'remote-code.lock.json'));
    const first = seen(COMMIT_A, { 'block.js': SHA_1, 'modular_config.json': SHA_2, 'modular_model_index.json': SHA_3 });
    expect(await lock.check('org/blocks', first)).toEqual({ status: 'new' });
    await lock.trust('org/blocks', first);
    expect(await lock.verify('org/blocks', first)).toMatchObject({ status: 'pinned' });

    // The same commit with an edited config: tampering, named as such.
    const edited = seen(COMMIT_A, { ...first.files, 'modular_config.json': SHA_1 });
    const tampered = await lock.verify('org/blocks', edited).catch((e: unknown) => e);
    expect(tampered).toBeInstanceOf(RemoteCodeChangedError);
    expect(tampered).toMatchObject({
      repo: 'org/blocks',
      pinnedCommit: COMMIT_A,
      commit: COMMIT_A,
      changedFiles: [{ path: 'modular_config.json', pinnedSha256: SHA_2, actualSha256: SHA_1 }],
    });
    expect((tampered as Error).message).toMatch(/same commit.*altered.*Nothing was run.*trustRemoteCode: \{ update: true \}.*--update-trust/s);

    // Another commit: old and new commit, the files that differ (a renamed bundle shows as removed + new).
    const moved = seen(COMMIT_B, { 'blocks.js': SHA_1, 'modular_config.json': SHA_3, 'modular_model_index.json': SHA_3 });
    const change = (await lock.verify('org/blocks', moved).catch((e: unknown) => e)) as RemoteCodeChangedError;
    expect(change).toBeInstanceOf(RemoteCodeChangedError);
    expect(change.pinnedCommit).toBe(COMMIT_A);
    expect(change.commit).toBe(COMMIT_B);
    expect(change.changedFiles).toEqual([
      { path: 'block.js', pinnedSha256: SHA_1, actualSha256: null },
      { path: 'blocks.js', pinnedSha256: null, actualSha256: SHA_1 },
      { path: 'modular_config.json', pinnedSha256: SHA_2, actualSha256: SHA_3 },
    ]);
    expect(change.message).toContain(`resolves to commit ${COMMIT_B}`);
    expect(change.message).toContain(`trusts commit ${COMMIT_A}`);
    expect(change.message).toContain('block.js (removed), blocks.js (new file), modular_config.json (sha256 222222222222… -> 333333333333…)');
    expect(change.message).toContain(`{ revision: '${COMMIT_A}' }`);

    // Nothing above changed the lock; trusting the new commit replaces the pin.
    expect((await lock.get('org/blocks'))?.commit).toBe(COMMIT_A);
    await lock.trust('org/blocks', moved);
    expect(await lock.get('org/blocks')).toMatchObject({ commit: COMMIT_B, revision: 'main', files: moved.files });
  });

  it('revokes a pin, lists what is left, and keeps concurrent writers\' pins with no temporary files left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'remote-code-lock-'));
    const repos = Array.from({ length: 8 }, (_, i) => `org/r${i}`);
    await Promise.all(repos.map((repo) => new RemoteCodeLock({ projectDir: dir }).trust(repo, seen(COMMIT_A, { 'b.js': SHA_1 }))));
    const lock = new RemoteCodeLock({ projectDir: dir });
    expect(Object.keys(await lock.read()).sort()).toEqual(repos);
    expect(await readdir(dir)).toEqual(['remote-code.lock.json']);
    const revoked = await lock.revoke('org/r3');
    expect(revoked?.commit).toBe(COMMIT_A);
    expect(await lock.revoke('org/r3')).toBeUndefined();
    expect(Object.keys(await lock.read())).not.toContain('org/r3');
    expect(await lock.check('org/r3', seen(COMMIT_B, { 'b.js': SHA_2 }))).toEqual({ status: 'new' });
    const content = JSON.parse(await readFile(lock.path, 'utf8'));
    expect(content.version).toBe(2);
    expect(content.repos['org/r0']).toEqual({ commit: COMMIT_A, revision: 'main', files: { 'b.js': SHA_1 }, trustedAt: expect.any(String) });
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a version-1 lock: its bundle pins hold, and the files it did not record are recorded for the same commit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'remote-code-lock-'));
    const lock = new RemoteCodeLock({ projectDir: dir });
    await mkdir(dirname(lock.path), { recursive: true });
    await writeFile(lock.path, JSON.stringify({ version: 1, repos: { 'org/old': { commit: COMMIT_A, files: { 'block.js': SHA_1 }, pinnedAt: '2026-01-01T00:00:00.000Z' } } }));
    expect(await lock.get('org/old')).toEqual({ commit: COMMIT_A, revision: null, files: { 'block.js': SHA_1 }, trustedAt: '2026-01-01T00:00:00.000Z' });
    const now = seen(COMMIT_A, { 'block.js': SHA_1, 'modular_config.json': SHA_2 });
    expect(await lock.verify('org/old', now)).toMatchObject({ status: 'pinned' });
    await expect(lock.verify('org/old', seen(COMMIT_A, { 'block.js': SHA_2 }))).rejects.toBeInstanceOf(RemoteCodeChangedError);
    await expect(lock.verify('org/old', seen(COMMIT_B, { 'block.js': SHA_1 }))).rejects.toBeInstanceOf(RemoteCodeChangedError);
    await lock.trust('org/old', now);
    const content = JSON.parse(await readFile(lock.path, 'utf8'));
    expect(content).toEqual({ version: 2, repos: { 'org/old': { commit: COMMIT_A, revision: 'main', files: now.files, trustedAt: expect.any(String) } } });
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects bad ids and a damaged lock file with a message saying what to do', async () => {
    const lock = new RemoteCodeLock({ projectDir: join(cacheDir, 'damaged') });
    await mkdir(join(cacheDir, 'damaged'), { recursive: true });
    await expect(lock.trust('org/x', seen('main', { 'a.js': SHA_1 }))).rejects.toThrow(/full 40-character commit/);
    await expect(lock.trust('org/x', seen(COMMIT_A, { 'a.js': 'abc' }))).rejects.toThrow(/64 lowercase hex/);
    await writeFile(lock.path, '{ nope');
    await expect(lock.read()).rejects.toThrow(/not valid JSON.*delete it/s);
    await writeFile(lock.path, JSON.stringify({ version: 2, repos: { 'org/x': { commit: 'short', files: {} } } }));
    await expect(lock.read()).rejects.toBeInstanceOf(HubError);
    await writeFile(lock.path, JSON.stringify({ version: 3, repos: { 'org/x': { commit: COMMIT_A, files: {} } } }));
    await expect(lock.read()).rejects.toThrow(/version 3; this version of @modular-diffusers\/hub reads versions 1 and 2/);
  });
});
