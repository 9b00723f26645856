import { readdir, readFile, writeFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentsManager, MemoryLogger, ModularPipeline, ModularPipelineBlocks, setPretrainedHooks } from '@modular-diffusers/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HubCacheMissError, HubJsonError, RepoNotFoundError, RevisionNotFoundError, HubUnauthorizedError } from '../cache/hub-errors.js';
import { RemoteCodeChangedError } from '../cache/remote-code-lock-errors.js';
import { RemoteCodeLock } from '../cache/remote-code-lock.js';
import { resolveHubConfig } from '../config/hub-config.js';
import { installHubIntegration } from './install-hub-integration.js';
import { setRemoteCodeLoader, type RemoteCodeLoader, type RemoteCodeRequest } from './remote-code-loader.js';
import {
  BlocksNotFoundError,
  NoRemoteCodeError,
  RemoteCodeDisabledError,
  RemoteCodeHashMismatchError,
  RemoteCodeLoaderMissingError,
  RemoteCodeNotTrustedError,
  RepoConfigError,
} from './pretrained-errors.js';
import {
  ALICE,
  BOB,
  BUNDLE_SOURCE,
  CODE_REPO,
  FakeUnet,
  PIPE,
  PIPE_INDEX,
  PRIVATE_PIPE,
  SDXL_STANDARD,
  TEXT_REPO,
  ToyPipeBlocks,
  ToySdxlDefaultBlocks,
  UNET_REPO,
  fakeLoaders,
  startHubFixture,
  type HubFixture,
} from './pretrained-fixtures.test-helpers.js';
import { createHash } from 'node:crypto';

// The real @huggingface/hub client over HTTP against the in-process local Hub server,
// reached through core's ModularPipeline.fromPretrained once the hub integration is installed.

let hub: HubFixture;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A loader that records what it was handed and builds a host-side pipeline from toy blocks instead of running the bundle. */
function recordingLoader(): RemoteCodeLoader & { requests: RemoteCodeRequest[] } {
  const requests: RemoteCodeRequest[] = [];
  return {
    requests,
    async loadPipeline(request) {
      requests.push(request);
      return new ToyPipeBlocks().initPipeline(request.repo, {
        repoResolver: request.resolver,
        modelIndex: request.modelIndex,
        loaderRegistry: request.init.loaderRegistry,
      });
    },
    async loadBlocks(request) {
      requests.push(request);
      return new ToyPipeBlocks();
    },
  };
}

function options(extra: Record<string, unknown> = {}) {
  return { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders(), ...extra };
}

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  installHubIntegration();
  hub = await startHubFixture();
});

afterEach(() => {
  setRemoteCodeLoader(null);
  hub.server.setFaults([]);
});

afterAll(async () => {
  await hub?.close();
});

describe('ModularPipeline.fromPretrained over the Hub', () => {
  it('builds a lazy pipeline from a repo holding only modular_model_index.json, components from two other repos', async () => {
    const opts = options();
    hub.server.clearRequestLog();
    const pipeline = await ModularPipeline.fromPretrained(PIPE, opts);
    expect(pipeline).toBeInstanceOf(ModularPipeline);
    expect(pipeline.blocks).toBeInstanceOf(ToyPipeBlocks);
    // Lazy: specs from the index, nothing loaded, nothing of the component repos fetched.
    expect(pipeline.nullComponentNames.sort()).toEqual(['text_encoder', 'unet']);
    expect(pipeline.getComponentSpec('unet')).toMatchObject({ pretrainedModelNameOrPath: UNET_REPO, subfolder: 'unet' });
    expect(pipeline.config.factor).toBe(3);
    expect(hub.server.requestLog.filter((r) => r.path.includes(TEXT_REPO) || r.path.includes(UNET_REPO))).toEqual([]);

    const report = await pipeline.loadComponents();
    expect(report.loaded.sort()).toEqual(['text_encoder', 'unet']);
    // 'hello' -> 2 * 5 = 10 (text_encoder/config.json scale 2); + 10 (unet/weights.txt); * factor 3 from the index = 60.
    expect(await pipeline({ prompt: 'hello', output: 'result' })).toBe(60);
  });

  it("accepts the guide's `componentManager` spelling: loaded components land in that manager's collection", async () => {
    const components = new ComponentsManager(new MemoryLogger());
    const pipeline = await ModularPipeline.fromPretrained(PIPE, { ...options(), componentManager: components, collection: 'diffdiff' });
    await pipeline.loadComponents();
    expect(Object.keys(components.search(null, { collection: 'diffdiff' })).sort()).toEqual(['text_encoder', 'unet']);
  });

  it('a second load of the cached revision, components included, makes no request at all', async () => {
    const opts = options();
    const first = await ModularPipeline.fromPretrained(PIPE, opts);
    await first.loadComponents();
    hub.server.clearRequestLog();
    const second = await ModularPipeline.fromPretrained(PIPE, { ...opts, loaderRegistry: fakeLoaders() });
    await second.loadComponents();
    expect(hub.server.requestLog).toEqual([]);
    expect(await second({ prompt: 'abc', output: 'result' })).toBe((2 * 3 + 10) * 3);
  });

  it('downloads only the subfolder a component needs, and no variant files without a variant', async () => {
    const opts = options();
    const pipeline = await ModularPipeline.fromPretrained(PIPE, opts);
    hub.server.clearRequestLog();
    await pipeline.loadComponents('unet');
    const snapshot = join(opts.cacheDir, 'models--org--unet-repo', 'snapshots', hub.commits[UNET_REPO]!);
    expect((await readdir(snapshot, { recursive: true })).sort()).toEqual(['unet', 'unet/config.json', 'unet/model.onnx', 'unet/weights.txt']);
    const downloads = hub.server.requestLog.filter((r) => r.route === 'resolve' && r.method === 'GET').map((r) => r.path);
    expect(downloads.some((p) => p.includes('fp16') || p.includes('vae/'))).toBe(false);
  });

  it('with a variant, takes name.<variant>.ext files instead of the plain ones', async () => {
    const opts = options();
    const pipeline = await ModularPipeline.fromPretrained(PIPE, opts);
    await pipeline.loadComponents('unet', { perComponent: { unet: { variant: 'fp16' } } });
    const snapshot = join(opts.cacheDir, 'models--org--unet-repo', 'snapshots', hub.commits[UNET_REPO]!);
    expect((await readdir(join(snapshot, 'unet'))).sort()).toEqual(['config.json', 'model.fp16.onnx', 'model.fp16.onnx_data', 'weights.fp16.txt']);
    expect(pipeline.getComponent<FakeUnet>('unet').offset).toBe(20);
  });

  it('maps a standard model_index.json repo to its model family default blocks', async () => {
    const pipeline = await ModularPipeline.fromPretrained(SDXL_STANDARD, options());
    expect(pipeline.blocks).toBeInstanceOf(ToySdxlDefaultBlocks);
    expect(pipeline.getComponentSpec('unet')).toMatchObject({ pretrainedModelNameOrPath: SDXL_STANDARD, subfolder: 'unet' });
    await pipeline.loadComponents();
    // 'ab' -> 1 * 2 + 5, factor 1 (no config in a standard index).
    expect(await pipeline({ prompt: 'ab', output: 'result' })).toBe(7);
  });

  it('device goes to every component load', async () => {
    const loaders = fakeLoaders();
    const pipeline = await ModularPipeline.fromPretrained(PIPE, options({ device: 'cpu', loaderRegistry: loaders }));
    await pipeline.loadComponents('text_encoder');
    expect(loaders.options).toEqual([{ device: 'cpu' }]);
  });

  it('ModularPipelineBlocks.fromPretrained gives the registered blocks of a repo without code', async () => {
    const blocks = await ModularPipelineBlocks.fromPretrained(PIPE, options());
    expect(blocks).toBeInstanceOf(ToyPipeBlocks);
  });
});

describe('bad input', () => {
  it('an unknown repo and an unknown revision', async () => {
    await expect(ModularPipeline.fromPretrained('org/does-not-exist', options())).rejects.toBeInstanceOf(RepoNotFoundError);
    const error = await ModularPipeline.fromPretrained(PIPE, options({ revision: 'no-such-branch' })).catch((e) => e);
    expect(error).toBeInstanceOf(RevisionNotFoundError);
    expect(error.message).toContain('no-such-branch');
  });

  it('a private repo: no token, a wrong token, another user’s token, then the right one', async () => {
    await expect(ModularPipeline.fromPretrained(PRIVATE_PIPE, options())).rejects.toBeInstanceOf(RepoNotFoundError);
    await expect(ModularPipeline.fromPretrained(PRIVATE_PIPE, options({ accessToken: 'hf_wrong' }))).rejects.toBeInstanceOf(HubUnauthorizedError);
    await expect(ModularPipeline.fromPretrained(PRIVATE_PIPE, options({ accessToken: BOB }))).rejects.toBeInstanceOf(RepoNotFoundError);
    const pipeline = await ModularPipeline.fromPretrained(PRIVATE_PIPE, options({ accessToken: ALICE }));
    expect(pipeline.blocks).toBeInstanceOf(ToyPipeBlocks);
  });

  it('a malformed modular_model_index.json fails naming the file', async () => {
    await hub.seed('org/bad-json', { 'modular_model_index.json': '{ "_class_name": "X",, }' });
    const notJson = await ModularPipeline.fromPretrained('org/bad-json', options()).catch((e) => e);
    expect(notJson).toBeInstanceOf(HubJsonError);
    expect(notJson.message).toContain('modular_model_index.json');

    await hub.seed('org/bad-entry', { 'modular_model_index.json': JSON.stringify({ ...PIPE_INDEX, unet: [null, null, 'org/unet-repo'] }) });
    const badEntry = await ModularPipeline.fromPretrained('org/bad-entry', options()).catch((e) => e);
    expect(badEntry).toBeInstanceOf(RepoConfigError);
    expect(badEntry.message).toMatch(/modular_model_index\.json of org\/bad-entry is malformed: entry "unet"/);
  });

  it('a repo naming no registered blocks says which class it named', async () => {
    await hub.seed('org/unknown-blocks', { 'modular_model_index.json': JSON.stringify({ ...PIPE_INDEX, _blocks_class_name: 'NobodyRegisteredThis' }) });
    const error = await ModularPipeline.fromPretrained('org/unknown-blocks', options()).catch((e) => e);
    expect(error).toBeInstanceOf(BlocksNotFoundError);
    expect(error.message).toContain("'NobodyRegisteredThis'");
  });

  it('offline: a warm cache works with no request; a cold one names what is missing', async () => {
    const opts = options();
    await (await ModularPipeline.fromPretrained(PIPE, opts)).loadComponents();
    hub.server.setFaults([{ kind: 'error', status: 500 }]);
    hub.server.clearRequestLog();
    const offline = await ModularPipeline.fromPretrained(PIPE, { ...opts, localFilesOnly: true, loaderRegistry: fakeLoaders() });
    await offline.loadComponents();
    expect(await offline({ prompt: 'hello', output: 'result' })).toBe(60);
    expect(hub.server.requestLog).toEqual([]);
    hub.server.setFaults([]);

    const cold = await ModularPipeline.fromPretrained(PIPE, options({ localFilesOnly: true })).catch((e) => e);
    expect(cold).toBeInstanceOf(HubCacheMissError);
    expect(cold.message).toContain(PIPE);
  });

  it('without the hub integration installed, core says what to import', async () => {
    const previous = setPretrainedHooks(null);
    try {
      await expect(ModularPipeline.fromPretrained(PIPE)).rejects.toThrow("import { installHub } from '@modular-diffusers/hub'; installHub();");
    } finally {
      setPretrainedHooks(previous);
    }
  });
});

describe('the remote-code gate', () => {
  it('a repo with code and no trust flag: the error names repo, commit and files; nothing is downloaded or run', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    hub.server.clearRequestLog();
    const error = await ModularPipeline.fromPretrained(CODE_REPO, options()).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeNotTrustedError);
    expect(error).toMatchObject({ repo: CODE_REPO, commit: hub.commits[CODE_REPO], files: ['block.js'] });
    expect(error.message).toContain(CODE_REPO);
    expect(error.message).toContain(hub.commits[CODE_REPO]);
    expect(error.message).toContain('block.js');
    expect(error.message).toContain('trustRemoteCode: true');
    expect(loader.requests).toEqual([]);
    expect(hub.server.requestLog.some((r) => r.path.includes('block.js'))).toBe(false);
    await expect(ModularPipelineBlocks.fromPretrained(CODE_REPO, options())).rejects.toBeInstanceOf(RemoteCodeNotTrustedError);
  });

  it('trusted: the loader gets the pinned bundle text, its sha256 and a resolver for the components', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const opts = options({ trustRemoteCode: true });
    const pipeline = await ModularPipeline.fromPretrained(CODE_REPO, opts);
    expect(loader.requests).toHaveLength(1);
    const request = loader.requests[0]!;
    expect(request).toMatchObject({
      target: 'pipeline',
      repo: CODE_REPO,
      commit: hub.commits[CODE_REPO],
      bundleFile: 'block.js',
      bundleSource: BUNDLE_SOURCE,
      bundleSha256: sha256(BUNDLE_SOURCE),
      exportName: 'CodeBlocks',
    });
    expect(request.options.trustRemoteCode).toBe(false);
    expect(await readFile(request.bundlePath, 'utf8')).toBe(BUNDLE_SOURCE);
    const lock = JSON.parse(await readFile(new RemoteCodeLock(resolveHubConfig({ env: opts.env, cacheDir: opts.cacheDir })).path, 'utf8'));
    expect(lock.repos[CODE_REPO]).toMatchObject({ commit: hub.commits[CODE_REPO], files: { 'block.js': sha256(BUNDLE_SOURCE) } });
    await pipeline.loadComponents();
    expect(await pipeline({ prompt: 'hello', output: 'result' })).toBe(60);
  });

  it('trust is not forwarded to a component repo that has code of its own', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    await hub.seed('org/code-unet', {
      'modular_config.json': JSON.stringify({ auto_map: { ModularPipelineBlocks: 'evil.Evil' } }),
      'evil.js': 'defineBlocks(1, () => ({ Evil: 1 }));',
      'unet/weights.txt': '1',
    });
    await hub.seed('org/trusted-pipe', {
      'modular_config.json': JSON.stringify({ auto_map: { ModularPipelineBlocks: 'block.CodeBlocks' } }),
      'block.js': BUNDLE_SOURCE,
      'modular_model_index.json': JSON.stringify({ ...PIPE_INDEX, unet: [null, null, { pretrained_model_name_or_path: 'org/code-unet', subfolder: 'unet' }] }),
    });
    const opts = options({ trustRemoteCode: true });
    hub.server.clearRequestLog();
    const pipeline = await ModularPipeline.fromPretrained('org/trusted-pipe', opts);
    await pipeline.loadComponents();
    // The component repo's files are data to its loader; its code is never fetched, let alone run.
    expect(loader.requests.map((r) => r.repo)).toEqual(['org/trusted-pipe']);
    expect(hub.server.requestLog.some((r) => r.path.includes('evil.js'))).toBe(false);
    expect(pipeline.getComponent<FakeUnet>('unet').offset).toBe(1);
    // Trusting one repo never trusts another: loading the component repo itself still needs its own flag.
    await expect(ModularPipeline.fromPretrained('org/code-unet', { ...opts, trustRemoteCode: undefined })).rejects.toBeInstanceOf(RemoteCodeNotTrustedError);
    expect(loader.requests).toHaveLength(1);
  });

  it('the kill switch is the process environment\'s: no option combination turns remote code back on', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const base = options();
    // A warm cache, so the offline combinations reach the gate too.
    await ModularPipeline.fromPretrained(CODE_REPO, { ...base, trustRemoteCode: true });
    loader.requests.length = 0;
    const lockFile = new RemoteCodeLock(resolveHubConfig({ env: base.env, cacheDir: base.cacheDir })).path;
    const lockBefore = await readFile(lockFile, 'utf8');
    const trusts = [true, {}, { update: true }, { update: false }];
    const envs = [undefined, {}, { ...base.env }, { ...base.env, MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE: '0', DIFFUSERS_DISABLE_REMOTE_CODE: 'false' }];
    const extras = [{}, { revision: hub.commits[CODE_REPO] }, { localFilesOnly: true }, { allowLocalComponents: true }, { revision: 'main', localFilesOnly: false }];
    for (const variable of ['MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE', 'DIFFUSERS_DISABLE_REMOTE_CODE']) {
      vi.stubEnv(variable, '1');
      try {
        for (const trustRemoteCode of trusts) {
          for (const env of envs) {
            for (const extra of extras) {
              const given = { ...base, env, trustRemoteCode, ...extra };
              const error = await ModularPipeline.fromPretrained(CODE_REPO, given).catch((e) => e);
              expect(error, JSON.stringify({ variable, trustRemoteCode, env, extra })).toBeInstanceOf(RemoteCodeDisabledError);
              expect(error.message).toContain(variable);
              expect(error.message).toContain('block.js');
              await expect(ModularPipelineBlocks.fromPretrained(CODE_REPO, given)).rejects.toBeInstanceOf(RemoteCodeDisabledError);
            }
          }
        }
        // A repo without code still loads with the switch on.
        await expect(ModularPipeline.fromPretrained(PIPE, options())).resolves.toBeInstanceOf(ModularPipeline);
      } finally {
        vi.unstubAllEnvs();
      }
    }
    expect(loader.requests).toEqual([]);
    expect(await readFile(lockFile, 'utf8')).toBe(lockBefore);
    // An `env` option naming the switch is Hub settings only: it neither turns code off nor on.
    await expect(ModularPipeline.fromPretrained(CODE_REPO, { ...base, env: { ...base.env, MODULAR_DIFFUSERS_DISABLE_REMOTE_CODE: '1' }, trustRemoteCode: true })).resolves.toBeInstanceOf(ModularPipeline);
  });

  it('trustRemoteCode on a repo without code is an error, as in diffusers', async () => {
    await expect(ModularPipeline.fromPretrained(PIPE, options({ trustRemoteCode: true }))).rejects.toBeInstanceOf(NoRemoteCodeError);
  });

  it('trusted code with no loader installed fails clearly, naming the package to install and the call to make', async () => {
    const error = await ModularPipeline.fromPretrained(CODE_REPO, options({ trustRemoteCode: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCodeLoaderMissingError);
    expect((error as Error).message).toContain('npm install @modular-diffusers/sandbox');
    expect((error as Error).message).toContain('installSandbox()');
  });

  it('pinning: a bundle changed in the cache under the same commit fails loudly and is not run', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    const opts = options({ trustRemoteCode: true });
    const first = await ModularPipeline.fromPretrained(CODE_REPO, opts);
    expect(first).toBeInstanceOf(ModularPipeline);
    const cached = join(opts.cacheDir, 'models--org--code-pipe', 'snapshots', hub.commits[CODE_REPO]!, 'block.js');
    await writeFile(await realpath(cached), 'defineBlocks(1, () => ({ CodeBlocks: "tampered" }));\n');
    const error = await ModularPipeline.fromPretrained(CODE_REPO, opts).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeChangedError);
    expect(error.message).toContain(hub.commits[CODE_REPO]);
    expect(loader.requests).toHaveLength(1);
  });

  it('a modular_config.json declaring another sha256 than the bundle has is refused', async () => {
    const loader = recordingLoader();
    setRemoteCodeLoader(loader);
    await hub.seed('org/declared', {
      'modular_config.json': JSON.stringify({ auto_map: { ModularPipelineBlocks: 'block.CodeBlocks' }, bundle: { file: 'block.js', sha256: sha256('something else') } }),
      'block.js': BUNDLE_SOURCE,
    });
    const error = await ModularPipeline.fromPretrained('org/declared', options({ trustRemoteCode: true })).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeHashMismatchError);
    expect(error).toMatchObject({ declaredSha256: sha256('something else'), actualSha256: sha256(BUNDLE_SOURCE) });
    expect(loader.requests).toEqual([]);
  });
});
