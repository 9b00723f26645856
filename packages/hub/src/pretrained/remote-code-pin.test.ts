import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ModularPipeline, ModularPipelineBlocks } from '@modular-diffusers/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RemoteCodeChangedError } from '../cache/remote-code-lock-errors.js';
import { RemoteCodeLock } from '../cache/remote-code-lock.js';
import { resolveHubConfig } from '../config/hub-config.js';
import { parseRepoDesignation } from '@modular-diffusers/hub-server';
import { HubRepoResolver } from './hub-repo-resolver.js';
import { installHubIntegration } from './install-hub-integration.js';
import { LocalComponentPathError, RepoConfigError } from './pretrained-errors.js';
import { setRemoteCodeLoader, type RemoteCodeLoader, type RemoteCodeRequest } from './remote-code-loader.js';
import { BUNDLE_SOURCE, FakeUnet, PIPE_INDEX, ToyPipeBlocks, fakeLoaders, startHubFixture, type HubFixture } from './pretrained-fixtures.test-helpers.js';

// The remote-code lock as a user meets it: a trusted repo moves on (new commit on its branch, a
// moved tag, files edited in the cache), each change is refused naming what changed and the one
// option that accepts it; accepting re-pins; revoking forgets. The real @huggingface/hub client
// talks to the local Hub server over HTTP.

let hub: HubFixture;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function recordingLoader(): RemoteCodeLoader & { requests: RemoteCodeRequest[] } {
  const requests: RemoteCodeRequest[] = [];
  return {
    requests,
    async loadPipeline(request) {
      requests.push(request);
      return new ToyPipeBlocks().initPipeline(request.repo, { repoResolver: request.resolver, modelIndex: request.modelIndex, loaderRegistry: request.init.loaderRegistry });
    },
    async loadBlocks(request) {
      requests.push(request);
      return new ToyPipeBlocks();
    },
  };
}

const config = (bundle = 'block') => JSON.stringify({ _class_name: 'CodeBlocks', auto_map: { ModularPipelineBlocks: `${bundle}.CodeBlocks` } });
const files = (overrides: Record<string, string> = {}) => ({
  'modular_config.json': config(),
  'modular_model_index.json': JSON.stringify(PIPE_INDEX),
  'block.js': BUNDLE_SOURCE,
  ...overrides,
});

let loader: ReturnType<typeof recordingLoader>;
let repoCounter = 0;

/** A fresh repo on the Hub and a fresh cache; returns what a test needs to load it. */
async function trustedRepo() {
  const repo = `org/pinned-${++repoCounter}`;
  const first = await hub.seed(repo, files());
  const { cacheDir, env } = hub.fresh();
  const opts = { hubUrl: hub.server.url, cacheDir, env, loaderRegistry: fakeLoaders() };
  const lock = new RemoteCodeLock(resolveHubConfig({ env, cacheDir }));
  const repoDir = join(cacheDir, `models--${repo.replace('/', '--')}`);
  return {
    repo,
    first,
    opts,
    lock,
    load: (extra: Record<string, unknown> = {}) => ModularPipeline.fromPretrained(repo, { ...opts, trustRemoteCode: true, ...extra }),
    /** What another client refreshing the cache does: the cached ref is dropped, so the next load asks the Hub where it points. */
    forgetRef: (revision = 'main') => rm(join(repoDir, 'refs', revision), { force: true }),
    cached: async (commit: string, path: string) => realpath(join(repoDir, 'snapshots', commit, path)),
  };
}

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  installHubIntegration();
  hub = await startHubFixture();
});

afterEach(() => setRemoteCodeLoader(null));

afterAll(async () => {
  await hub?.close();
});

describe('the remote-code lock', () => {
  it('pins the commit and the sha256 of the bundle, modular_config.json and the model index on first trust', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    await t.load();
    const lock = JSON.parse(await readFile(t.lock.path, 'utf8'));
    expect(lock.version).toBe(2);
    expect(lock.repos[t.repo]).toEqual({
      commit: t.first,
      revision: 'main',
      files: { 'block.js': sha256(BUNDLE_SOURCE), 'modular_config.json': sha256(config()), 'modular_model_index.json': sha256(JSON.stringify(PIPE_INDEX)) },
      trustedAt: expect.any(String),
    });
  });

  it('a new commit on the trusted branch is refused, naming both commits and the changed file; { update: true } accepts it and re-pins', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    await t.load();
    const evil = 'defineBlocks(1, () => ({ CodeBlocks: class CodeBlocks { constructor() { /* new code */ } } }));\n';
    const second = await hub.seed(t.repo, files({ 'block.js': evil }));
    await t.forgetRef();
    const error = (await t.load().catch((e) => e)) as RemoteCodeChangedError;
    expect(error).toBeInstanceOf(RemoteCodeChangedError);
    expect(error).toMatchObject({ repo: t.repo, pinnedCommit: t.first, commit: second, revision: 'main' });
    expect(error.changedFiles).toEqual([{ path: 'block.js', pinnedSha256: sha256(BUNDLE_SOURCE), actualSha256: sha256(evil) }]);
    for (const part of [t.repo, t.first, second, 'block.js', 'trustRemoteCode: { update: true }', 'modular run --update-trust']) expect(error.message).toContain(part);
    expect(loader.requests).toHaveLength(1);
    expect((await t.lock.get(t.repo))?.commit).toBe(t.first);
    // Blocks alone are gated the same way.
    await expect(ModularPipelineBlocks.fromPretrained(t.repo, { ...t.opts, trustRemoteCode: true })).rejects.toBeInstanceOf(RemoteCodeChangedError);

    // Still refused on the next try: the refusal changed nothing.
    await expect(t.load()).rejects.toBeInstanceOf(RemoteCodeChangedError);
    await t.load({ trustRemoteCode: { update: true } });
    expect(loader.requests.at(-1)!.bundleSource).toBe(evil);
    expect(await t.lock.get(t.repo)).toMatchObject({ commit: second, files: { 'block.js': sha256(evil) } });
    // And the new pin holds from now on.
    await t.load();
    expect(loader.requests).toHaveLength(3);
  });

  it('a moved tag is refused the same way', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    const id = parseRepoDesignation(t.repo);
    await hub.server.store.createTag(id, 'v1', t.first);
    await t.load({ revision: 'v1' });
    expect(await t.lock.get(t.repo)).toMatchObject({ commit: t.first, revision: 'v1' });
    const second = await hub.seed(t.repo, files({ 'modular_config.json': config().replace('}', ', "note": "moved"}') }));
    await hub.server.store.deleteTag(id, 'v1');
    await hub.server.store.createTag(id, 'v1', second);
    await t.forgetRef('v1');
    const error = (await t.load({ revision: 'v1' }).catch((e) => e)) as RemoteCodeChangedError;
    expect(error).toBeInstanceOf(RemoteCodeChangedError);
    expect(error).toMatchObject({ pinnedCommit: t.first, commit: second, revision: 'v1' });
    expect(error.changedFiles.map((c) => c.path)).toEqual(['modular_config.json']);
    expect(loader.requests).toHaveLength(1);
  });

  it('naming a commit by its sha is trusting that commit: it loads and moves the pin', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    await t.load();
    const second = await hub.seed(t.repo, files({ 'block.js': `${BUNDLE_SOURCE}// v2\n` }));
    await t.load({ revision: second });
    expect(await t.lock.get(t.repo)).toMatchObject({ commit: second, revision: second });
    // Going back by name is the same decision; a branch that resolves elsewhere is not.
    await t.load({ revision: t.first });
    expect((await t.lock.get(t.repo))?.commit).toBe(t.first);
    await t.forgetRef();
    await expect(t.load()).rejects.toBeInstanceOf(RemoteCodeChangedError);
  });

  it.each([
    ['the bundle', 'block.js', 'defineBlocks(1, () => ({ CodeBlocks: "tampered" }));\n'],
    ['modular_config.json', 'modular_config.json', config('other')],
    ['the model index', 'modular_model_index.json', JSON.stringify({ ...PIPE_INDEX, factor: 4 })],
  ])('%s edited in the cache under the same commit is refused as tampering; update accepts it', async (_what, path, edited) => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    if (path === 'modular_config.json') await hub.seed(t.repo, { ...files(), 'other.js': BUNDLE_SOURCE }).then((c) => (t.first = c));
    await t.load();
    await writeFile(await t.cached(t.first, path), edited);
    const error = (await t.load().catch((e) => e)) as RemoteCodeChangedError;
    expect(error).toBeInstanceOf(RemoteCodeChangedError);
    expect(error).toMatchObject({ pinnedCommit: t.first, commit: t.first });
    expect(error.changedFiles).toContainEqual({ path, pinnedSha256: expect.any(String), actualSha256: sha256(edited) });
    // A config naming another bundle of the same commit also shows the bundle swap.
    if (path === 'modular_config.json') expect(error.changedFiles.map((c) => c.path)).toEqual(['block.js', 'modular_config.json', 'other.js']);
    else expect(error.changedFiles).toHaveLength(1);
    expect(error.message).toMatch(/altered.*Nothing was run.*trustRemoteCode: \{ update: true \}/s);
    expect(loader.requests).toHaveLength(1);
    await t.load({ trustRemoteCode: { update: true } });
    expect((await t.lock.get(t.repo))?.files[path]).toBe(sha256(edited));
    expect(loader.requests).toHaveLength(2);
  });

  it('revoke forgets the pin: the next trusted load pins what it finds', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    await t.load();
    const second = await hub.seed(t.repo, files({ 'block.js': `${BUNDLE_SOURCE}// v2\n` }));
    await t.forgetRef();
    await expect(t.load()).rejects.toBeInstanceOf(RemoteCodeChangedError);
    expect((await t.lock.revoke(t.repo))?.commit).toBe(t.first);
    expect(await t.lock.get(t.repo)).toBeUndefined();
    await t.load();
    expect((await t.lock.get(t.repo))?.commit).toBe(second);
  });

  it('a version-1 lock (bundle hashes only) keeps holding its pins and is upgraded on the next load', async () => {
    loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const t = await trustedRepo();
    await mkdir(dirname(t.lock.path), { recursive: true });
    await writeFile(t.lock.path, JSON.stringify({ version: 1, repos: { [t.repo]: { commit: t.first, files: { 'block.js': sha256(BUNDLE_SOURCE) }, pinnedAt: '2026-01-01T00:00:00.000Z' } } }));
    await t.load();
    const upgraded = JSON.parse(await readFile(t.lock.path, 'utf8'));
    expect(upgraded.version).toBe(2);
    expect(Object.keys(upgraded.repos[t.repo].files).sort()).toEqual(['block.js', 'modular_config.json', 'modular_model_index.json']);
    await writeFile(t.lock.path, JSON.stringify({ version: 1, repos: { [t.repo]: { commit: t.first, files: { 'block.js': sha256('other') }, pinnedAt: '' } } }));
    await expect(t.load()).rejects.toBeInstanceOf(RemoteCodeChangedError);
  });
});

describe('component locations from a repo are Hub repos unless the caller opts in', () => {
  let local: string;
  beforeAll(async () => {
    local = await mkdtemp(join(tmpdir(), 'local-unet-'));
    await mkdir(join(local, 'unet'));
    await writeFile(join(local, 'unet', 'weights.txt'), '7');
  });
  afterAll(() => rm(local, { recursive: true, force: true }));

  const indexNaming = (location: string) => ({ ...PIPE_INDEX, unet: [null, null, { pretrained_model_name_or_path: location, subfolder: 'unet', type_hint: [null, 'FakeUnet'] }] });

  it.each([
    ['an absolute path to an existing folder', () => local, /an absolute path on this machine/],
    ['a system folder', () => '/etc', /an absolute path on this machine/],
    ['a relative path', () => '../../secrets', /relative to the working directory/],
    ['a dot path', () => './unet', /relative to the working directory/],
    ['a home path', () => '~/.ssh', /a path in a home folder/],
    ['a Windows path', () => 'C:\\Users\\me', /an absolute path/],
    ['a path that is no repo id', () => 'a/b/c/d', /not a Hub repo id/],
  ])('an index naming %s is refused before anything loads; allowed with allowLocalComponents', async (_what, location, reason) => {
    const repo = `org/local-index-${++repoCounter}`;
    await hub.seed(repo, { 'modular_model_index.json': JSON.stringify(indexNaming(location())) });
    const opts = { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() };
    const error = await ModularPipeline.fromPretrained(repo, opts).catch((e) => e);
    expect(error).toBeInstanceOf(LocalComponentPathError);
    expect(error).toMatchObject({ repo, location: location() });
    expect(error.message).toMatch(reason);
    expect(error.message).toContain('modular_model_index.json entry "unet"');
    expect(error.message).toContain('allowLocalComponents: true');
    const allowed = await ModularPipeline.fromPretrained(repo, { ...opts, allowLocalComponents: true });
    if (location() === local) {
      await allowed.loadComponents(['unet']);
      expect(allowed.getComponent<FakeUnet>('unet').offset).toBe(7);
    }
  });

  it('a Hub repo id shadowed by a folder in the working directory is refused too', async () => {
    const cwd = process.cwd();
    const work = await mkdtemp(join(tmpdir(), 'shadow-cwd-'));
    await mkdir(join(work, 'org', 'unet-repo', 'unet'), { recursive: true });
    const repo = `org/shadowed-${++repoCounter}`;
    await hub.seed(repo, { 'modular_model_index.json': JSON.stringify(indexNaming('org/unet-repo')) });
    process.chdir(work);
    try {
      const error = await ModularPipeline.fromPretrained(repo, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() }).catch((e) => e);
      expect(error).toBeInstanceOf(LocalComponentPathError);
      expect(error.message).toMatch(/also a folder in the working directory/);
    } finally {
      process.chdir(cwd);
      await rm(work, { recursive: true, force: true });
    }
  });

  it('the resolver refuses locations from blocks specs and overrides too, and subfolders that leave the repo', async () => {
    const resolver = new HubRepoResolver({ hubUrl: hub.server.url, ...hub.fresh(), allowLocalFolders: false, ownRepos: ['org/pipe'], locationsOf: 'org/pipe' });
    await expect(resolver.resolve({ repo: local, subfolder: 'unet', revision: null, variant: null })).rejects.toBeInstanceOf(LocalComponentPathError);
    await expect(resolver.resolve({ repo: 'org/unet-repo', subfolder: '../../etc', revision: null, variant: null })).rejects.toBeInstanceOf(RepoConfigError);
    await expect(resolver.resolve({ repo: 'org/unet-repo', subfolder: 'unet', revision: null, variant: null })).resolves.toMatchObject({ repo: 'org/unet-repo' });
    // A pipeline built by fromPretrained resolves a user's override through the same policy.
    const pipeline = await ModularPipeline.fromPretrained('org/pipe', { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });
    const failed = await pipeline.loadComponents(['unet'], { perComponent: { unet: { repo: local } } } as never).catch((e) => e);
    expect(failed.cause).toBeInstanceOf(LocalComponentPathError);
    // The repo itself, when the caller named a local folder, is always readable: it is the caller's choice.
    const own = new HubRepoResolver({ allowLocalFolders: false, ownRepos: [local] });
    await expect(own.resolve({ repo: local, subfolder: 'unet', revision: null, variant: null })).resolves.toMatchObject({ path: join(local, 'unet') });
  });
});
