import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, RemoteCodeChangedError } from './hub-errors.js';
import { RemoteCodeLock } from './remote-code-lock.js';

const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);
const SHA_1 = '1'.repeat(64);
const SHA_2 = '2'.repeat(64);
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'remote-code-lock-'));
});

afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe('RemoteCodeLock', () => {
  it('pins files by commit and sha256, and refuses a changed file under the same commit', async () => {
    const lock = new RemoteCodeLock(cacheDir);
    expect(lock.path).toBe(join(cacheDir, 'modular-diffusers', 'remote-code.lock.json'));
    expect(await lock.checkPinned('org/blocks', COMMIT_A, 'block.js', SHA_1)).toBe('unpinned');
    await lock.pin('org/blocks', COMMIT_A, { 'block.js': SHA_1 });
    expect(await lock.checkPinned('org/blocks', COMMIT_A, 'block.js', SHA_1)).toBe('pinned');

    const changed = await lock.checkPinned('org/blocks', COMMIT_A, 'block.js', SHA_2).catch((e) => e);
    expect(changed).toBeInstanceOf(RemoteCodeChangedError);
    expect(changed).toMatchObject({ repo: 'org/blocks', commit: COMMIT_A, path: 'block.js', pinnedSha256: SHA_1, actualSha256: SHA_2 });
    expect(changed.message).toContain('it was not run');
    await expect(lock.pin('org/blocks', COMMIT_A, { 'block.js': SHA_2 })).rejects.toBeInstanceOf(RemoteCodeChangedError);

    // A new commit is a new pin; files of the same commit accumulate.
    expect(await lock.checkPinned('org/blocks', COMMIT_B, 'block.js', SHA_2)).toBe('unpinned');
    await lock.pin('org/blocks', COMMIT_A, { 'extra.js': SHA_2 });
    expect((await lock.get('org/blocks'))?.files).toEqual({ 'block.js': SHA_1, 'extra.js': SHA_2 });
    await lock.pin('org/blocks', COMMIT_B, { 'block.js': SHA_2 });
    expect(await lock.get('org/blocks')).toMatchObject({ commit: COMMIT_B, files: { 'block.js': SHA_2 } });
  });

  it('keeps concurrent pins of different repos and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'remote-code-lock-'));
    const repos = Array.from({ length: 8 }, (_, i) => `org/r${i}`);
    await Promise.all(repos.map((repo) => new RemoteCodeLock(dir).pin(repo, COMMIT_A, { 'b.js': SHA_1 })));
    expect(Object.keys(await new RemoteCodeLock(dir).read()).sort()).toEqual(repos);
    expect(await readdir(join(dir, 'modular-diffusers'))).toEqual(['remote-code.lock.json']);
    expect(JSON.parse(await readFile(join(dir, 'modular-diffusers', 'remote-code.lock.json'), 'utf8')).version).toBe(1);
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects bad ids and a damaged lock file with a message saying what to do', async () => {
    const lock = new RemoteCodeLock(cacheDir);
    await expect(lock.pin('org/x', 'main', { 'a.js': SHA_1 })).rejects.toThrow(/full 40-character commit/);
    await expect(lock.pin('org/x', COMMIT_A, { 'a.js': 'abc' })).rejects.toThrow(/64 lowercase hex/);
    await writeFile(lock.path, '{ nope');
    await expect(lock.read()).rejects.toThrow(/not valid JSON.*delete it/s);
    await writeFile(lock.path, JSON.stringify({ version: 1, repos: { 'org/x': { commit: 'short', files: {} } } }));
    await expect(lock.read()).rejects.toBeInstanceOf(HubError);
  });
});
