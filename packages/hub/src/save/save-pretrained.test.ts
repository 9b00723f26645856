import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { listCommits } from '@huggingface/hub';
import { DIFFUSERS_FORMAT_VERSION, ModularPipeline, ModularPipelineBlocks } from '@modular-diffusers/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { installHubIntegration } from '../pretrained/install-hub-integration.js';
import { setRemoteCodeLoader, type RemoteCodeRequest } from '../pretrained/remote-code-loader.js';
import {
  ALICE,
  BOB,
  BUNDLE_SOURCE,
  PIPE,
  ToyPipeBlocks,
  fakeLoaders,
  startHubFixture,
  type HubFixture,
} from '../pretrained/pretrained-fixtures.test-helpers.js';
import { writeFolderAtomic } from './write-folder-atomic.js';

let hub: HubFixture;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('pipeline.savePretrained', () => {
  it('writes modular_model_index.json (sorted, diffusers format), modular_config.json and a model card', async () => {
    const pipeline = await ModularPipeline.fromPretrained(PIPE, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });
    const dir = join(hub.root, 'saved-pipe');
    const result = await pipeline.savePretrained(dir);
    // No modular_config.json: the blocks are an installed class, and diffusers reads that file as code (auto_map).
    expect(result.files.sort()).toEqual(['README.md', 'modular_model_index.json']);

    const text = await readFile(join(dir, 'modular_model_index.json'), 'utf8');
    const index = JSON.parse(text);
    expect(Object.keys(index)).toEqual([...Object.keys(index)].sort());
    expect(index).toMatchObject({ _blocks_class_name: 'ToyPipeBlocks', _class_name: 'ModularPipeline', factor: 3 });
    // Not loaded yet: library and class are null; the spec keeps the other repo as its source.
    expect(index.unet).toEqual([null, null, { pretrained_model_name_or_path: 'org/unet-repo', revision: null, subfolder: 'unet', type_hint: [null, 'FakeUnet'], variant: null }]);

    const card = await readFile(join(dir, 'README.md'), 'utf8');
    expect(card).toContain('# ToyPipe Pipeline');
    expect(card).toContain('2-block architecture');
    expect(card).toContain('1. `encode` (`EncodeStep`): Encodes the prompt into a number');
    expect(card).not.toContain('Second line not shown');
    expect(card).toContain('1. `text_encoder` (`FakeTextEncoder`): Turns text into a number');
    expect(card).toContain('## Configuration Parameters');
    expect(card).toContain('- `prompt` (`str`): The prompt');
    expect(card).toContain('- `num_inference_steps` (`int`, *optional*, defaults to `50`): Steps');
    expect(card).toContain('- `result` (`float`): The answer');
    expect(card).toMatch(/tags:\n- modular-diffusers\n- diffusers\n- text-to-image\n/);
    // Nothing left beside it: the staging folder is gone.
    expect((await readdir(hub.root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('a saved folder loads back as a local repo with the same structure', async () => {
    const opts = { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() };
    const source = await ModularPipeline.fromPretrained(PIPE, opts);
    const dir = join(hub.root, 'saved-local');
    await source.savePretrained(dir);
    const local = await ModularPipeline.fromPretrained(dir, { ...opts, loaderRegistry: fakeLoaders() });
    expect(local.blocks.toString()).toBe(source.blocks.toString());
    expect(local.toModelIndex()).toEqual(source.toModelIndex());
    await local.loadComponents();
    expect(await local({ prompt: 'hello', output: 'result' })).toBe(60);
  });

  it('with loaded components, the index names their classes', async () => {
    const pipeline = await ModularPipeline.fromPretrained(PIPE, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });
    await pipeline.loadComponents('unet');
    const dir = join(hub.root, 'saved-loaded');
    await pipeline.savePretrained(dir);
    const index = await readJson(join(dir, 'modular_model_index.json'));
    expect(index.unet.slice(0, 2)).toEqual([null, 'FakeUnet']);
    expect(index.text_encoder.slice(0, 2)).toEqual([null, null]);
  });
});

describe('writeFolderAtomic', () => {
  it('a failed write leaves no folder and no staging files', async () => {
    const dir = join(hub.root, 'never-written');
    const bad = { path: 'b.json', content: 42 as unknown as string };
    await expect(writeFolderAtomic(dir, [{ path: 'a.json', content: '{}' }, bad])).rejects.toThrow();
    expect((await readdir(hub.root)).filter((n) => n.startsWith('never-written') || n.startsWith('.never-written'))).toEqual([]);
  });

  it('into an existing folder, replaces its own files whole and leaves the others', async () => {
    const dir = join(hub.root, 'existing');
    await mkdir(join(dir, 'unet'), { recursive: true });
    await writeFile(join(dir, 'unet', 'model.onnx'), 'weights');
    await writeFile(join(dir, 'modular_config.json'), 'old');
    await writeFolderAtomic(dir, [{ path: 'modular_config.json', content: '{"new":1}' }, { path: 'sub/x.txt', content: 'x' }]);
    expect(await readFile(join(dir, 'modular_config.json'), 'utf8')).toBe('{"new":1}');
    expect(await readFile(join(dir, 'unet', 'model.onnx'), 'utf8')).toBe('weights');
    expect(await readFile(join(dir, 'sub', 'x.txt'), 'utf8')).toBe('x');
    expect((await readdir(dirname(dir))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses paths that climb out of the folder', async () => {
    await expect(writeFolderAtomic(join(hub.root, 'x'), [{ path: '../evil', content: '' }])).rejects.toThrow(/relative file path/);
  });
});

describe('pushToHub', () => {
  it('creates the repo and uploads everything in one commit; fromPretrained of it gives the same structure', async () => {
    const source = await ModularPipeline.fromPretrained(PIPE, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });
    hub.server.clearRequestLog();
    const pushed = await source.savePretrained(join(hub.root, 'push-1'), { pushToHub: true, repoId: 'alice/pushed', token: ALICE, hubUrl: hub.server.url, private: true });
    expect(pushed.repoUrl).toBe(`${hub.server.url}/alice/pushed`);
    expect(hub.server.countRequests({ route: 'commit' })).toBe(1);
    const commits = [];
    for await (const c of listCommits({ repo: 'alice/pushed', hubUrl: hub.server.url, accessToken: ALICE })) commits.push(c.oid);
    // The Hub's own "initial commit" of a new repo, then ours holding every file.
    expect(commits).toHaveLength(2);
    expect(commits[0]).toBe(pushed.commit);

    const loaded = await ModularPipeline.fromPretrained('alice/pushed', { hubUrl: hub.server.url, accessToken: ALICE, ...hub.fresh(), loaderRegistry: fakeLoaders() });
    expect(loaded.blocks.className).toBe(source.blocks.className);
    expect(loaded.blocks.toString()).toBe(source.blocks.toString());
    expect(loaded.componentNames).toEqual(source.componentNames);
    for (const name of source.componentNames) expect(loaded.getComponentSpec(name).loadId).toBe(source.getComponentSpec(name).loadId);
    expect(loaded.config).toEqual(source.config);
    expect(loaded.toModelIndex()).toEqual(source.toModelIndex());
    await loaded.loadComponents();
    expect(await loaded({ prompt: 'hello', output: 'result' })).toBe(60);

    // Private: others cannot see it.
    await expect(ModularPipeline.fromPretrained('alice/pushed', { hubUrl: hub.server.url, accessToken: BOB, ...hub.fresh() })).rejects.toThrow(/not found/);
  });

  it('pushing again into an existing repo adds exactly one commit; a token without rights is refused clearly', async () => {
    const blocks = new ToyPipeBlocks();
    await blocks.savePretrained(join(hub.root, 'push-2'), { pushToHub: true, repoId: 'alice/again', token: ALICE, hubUrl: hub.server.url });
    hub.server.clearRequestLog();
    await blocks.savePretrained(join(hub.root, 'push-2'), { pushToHub: true, repoId: 'alice/again', token: ALICE, hubUrl: hub.server.url, commitMessage: 'second' });
    expect(hub.server.countRequests({ route: 'commit' })).toBe(1);
    await expect(blocks.savePretrained(join(hub.root, 'push-3'), { pushToHub: true, repoId: 'alice/again', token: BOB, hubUrl: hub.server.url })).rejects.toThrow(/write access/);
    await expect(blocks.savePretrained(join(hub.root, 'push-4'), { pushToHub: true })).rejects.toThrow(/repoId/);
  });

  it('blocks saved with a bundle round-trip through the gate: same bytes, same sha256, and saved again from the loaded pipeline', async () => {
    const requests: RemoteCodeRequest[] = [];
    setRemoteCodeLoader({
      async loadPipeline(request) {
        requests.push(request);
        return new ToyPipeBlocks().initPipeline(request.repo, { repoResolver: request.resolver, modelIndex: request.modelIndex });
      },
    });
    const blocks = new ToyPipeBlocks();
    const dir = join(hub.root, 'with-bundle');
    await blocks.savePretrained(dir, {
      pushToHub: true,
      repoId: 'alice/plugin',
      token: ALICE,
      hubUrl: hub.server.url,
      bundle: { file: 'block.js', source: BUNDLE_SOURCE, exportName: 'ToyPipeBlocks' },
      npmRequirements: { '@modular-diffusers/core': '^0.1.0' },
    });
    expect(await readJson(join(dir, 'modular_config.json'))).toEqual({
      _class_name: 'ToyPipeBlocks',
      _diffusers_version: DIFFUSERS_FORMAT_VERSION,
      auto_map: { ModularPipelineBlocks: 'block.ToyPipeBlocks' },
      bundle: { file: 'block.js', sha256: sha256(BUNDLE_SOURCE) },
      npm_requirements: { '@modular-diffusers/core': '^0.1.0' },
    });
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain("trustRemoteCode: true");

    const opts = { hubUrl: hub.server.url, accessToken: ALICE, ...hub.fresh() };
    await expect(ModularPipeline.fromPretrained('alice/plugin', opts)).rejects.toThrow(/trustRemoteCode: true/);
    const pipeline = await ModularPipeline.fromPretrained('alice/plugin', { ...opts, trustRemoteCode: true });
    expect(requests[0]).toMatchObject({ bundleSource: BUNDLE_SOURCE, bundleSha256: sha256(BUNDLE_SOURCE), exportName: 'ToyPipeBlocks' });

    const again = join(hub.root, 'resaved');
    await pipeline.savePretrained(again);
    expect(await readFile(join(again, 'block.js'), 'utf8')).toBe(BUNDLE_SOURCE);
    const resaved = await readJson(join(again, 'modular_config.json'));
    expect(resaved.bundle).toEqual({ file: 'block.js', sha256: sha256(BUNDLE_SOURCE) });
    expect(resaved.npm_requirements).toEqual({ '@modular-diffusers/core': '^0.1.0' });
  });

  it('ModularPipelineBlocks.savePretrained writes the blocks’ component specs as an index', async () => {
    const dir = join(hub.root, 'blocks-only');
    await (await ModularPipelineBlocks.fromPretrained(PIPE, { hubUrl: hub.server.url, ...hub.fresh() })).savePretrained(dir);
    const index = await readJson(join(dir, 'modular_model_index.json'));
    expect(index).toMatchObject({ _blocks_class_name: 'ToyPipeBlocks', _class_name: 'ModularPipeline', factor: 1 });
    // diffusers writes "" for "no subfolder" (its ComponentSpec default); FakeUnet is no diffusers or transformers class, so no library.
    expect(index.unet).toEqual([null, null, { pretrained_model_name_or_path: null, revision: null, subfolder: '', type_hint: [null, 'FakeUnet'], variant: null }]);
  });
});
