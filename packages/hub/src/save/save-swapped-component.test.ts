// Restates diffusers' tests/modular_pipelines/test_modular_pipeline_loading.py::TestCustomModelSavePretrained
// (commit 58eb52c) on the toy pipeline of the hub fixtures: a component of unknown origin keeps its
// modular_model_index.json entry and points at the saved folder; overwriteModularIndex points every
// component that can write itself there.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModularPipeline, tagLoadId } from '@modular-diffusers/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installHubIntegration } from '../pretrained/install-hub-integration.js';
import { FakeTextEncoder, FakeUnet, PIPE, fakeLoaders, startHubFixture, type HubFixture } from '../pretrained/pretrained-fixtures.test-helpers.js';

/** A FakeUnet that writes the folder the FakeUnet loader reads (weights.txt). */
class SaveableUnet extends FakeUnet {
  async savePretrained(dir: string): Promise<void> {
    await writeFile(join(dir, 'weights.txt'), String(this.offset));
    await writeFile(join(dir, 'config.json'), '{}');
  }
}

class SaveableTextEncoder extends FakeTextEncoder {
  async savePretrained(dir: string): Promise<void> {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ scale: this.scale }));
  }
}

/** The fixture loaders, but every object they load can write itself back (like a diffusers model). */
function saveableLoaders() {
  const registry = fakeLoaders();
  const base = fakeLoaders();
  registry.register({
    type: 'FakeUnet',
    fromPretrained: async (spec, context) => {
      const unet = (await base.get('FakeUnet')!.fromPretrained!(spec, context)) as FakeUnet;
      return new SaveableUnet(unet.offset, unet.files);
    },
  });
  registry.register({ type: 'SaveableUnet', fromPretrained: (spec, context) => registry.get('FakeUnet')!.fromPretrained!(spec, context) });
  registry.register({
    type: 'FakeTextEncoder',
    fromPretrained: async (spec, context) => new SaveableTextEncoder(((await base.get('FakeTextEncoder')!.fromPretrained!(spec, context)) as FakeTextEncoder).scale),
  });
  return registry;
}

let hub: HubFixture;
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'debug').mockImplementation(() => {});
  installHubIntegration();
  hub = await startHubFixture();
});

afterAll(async () => {
  await hub?.close();
});

describe('diffusers TestCustomModelSavePretrained', () => {
  const open = (registry = fakeLoaders()) => ModularPipeline.fromPretrained(PIPE, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: registry });

  it('test_save_pretrained_updates_index_for_model_with_no_load_id', async () => {
    const pipe = await open();
    await pipe.loadComponents();
    pipe.updateComponents({ unet: new SaveableUnet(7, []) });
    const dir = join(hub.root, 'swapped-unet');
    const result = await pipe.savePretrained(dir);
    expect(result.files).toContain('unet/weights.txt');
    const index = await readJson(join(dir, 'modular_model_index.json'));
    expect(index.unet[1]).toBe('SaveableUnet');
    expect(index.unet[2]).toMatchObject({ pretrained_model_name_or_path: result.dir, subfolder: 'unet' });
    expect(index.text_encoder[2].pretrained_model_name_or_path).toBe('org/text-repo');
  });

  it('test_save_pretrained_updates_index_for_local_model (a load id of "null")', async () => {
    const pipe = await open(saveableLoaders());
    await pipe.loadComponents();
    tagLoadId(pipe.components.unet, 'null');
    const dir = join(hub.root, 'null-load-id');
    const result = await pipe.savePretrained(dir);
    const index = await readJson(join(dir, 'modular_model_index.json'));
    expect(index.unet[2]).toMatchObject({ pretrained_model_name_or_path: result.dir, subfolder: 'unet' });
    expect(index.text_encoder[2].pretrained_model_name_or_path).toBe('org/text-repo');
  });

  it('test_save_pretrained_roundtrip_with_local_model', async () => {
    const pipe = await open();
    await pipe.loadComponents();
    pipe.updateComponents({ unet: new SaveableUnet(7, []) });
    const dir = join(hub.root, 'swapped-roundtrip');
    await pipe.savePretrained(dir);
    const loaded = await ModularPipeline.fromPretrained(dir, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: saveableLoaders(), allowLocalComponents: true });
    await loaded.loadComponents();
    expect(loaded.components.unet).toBeInstanceOf(SaveableUnet);
    expect((loaded.components.unet as FakeUnet).offset).toBe(7);
  });

  it('test_save_pretrained_overwrite_modular_index', async () => {
    const pipe = await open(saveableLoaders());
    await pipe.loadComponents();
    const dir = join(hub.root, 'overwrite-index');
    const result = await pipe.savePretrained(dir, { overwriteModularIndex: true });
    const index = await readJson(join(dir, 'modular_model_index.json'));
    for (const name of ['unet', 'text_encoder']) {
      expect(index[name][2]).toMatchObject({ pretrained_model_name_or_path: result.dir, subfolder: name });
    }
    const loaded = await ModularPipeline.fromPretrained(dir, { hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders(), allowLocalComponents: true });
    await loaded.loadComponents();
    expect((loaded.components.unet as FakeUnet).offset).toBe(10);
    expect((loaded.components.text_encoder as FakeTextEncoder).scale).toBe(2);
  });

  it('a component that cannot write itself keeps its entry (diffusers warns and skips it) instead of pointing at an empty folder', async () => {
    const pipe = await open();
    await pipe.loadComponents();
    const swapped = new FakeUnet(7, []);
    pipe.updateComponents({ unet: swapped });
    const dir = join(hub.root, 'unsaveable');
    const warn = vi.mocked(console.warn);
    warn.mockClear();
    const result = await pipe.savePretrained(dir, { overwriteModularIndex: true });
    expect(result.files.some((f) => f.startsWith('unet/'))).toBe(false);
    const index = await readJson(join(dir, 'modular_model_index.json'));
    expect(index.unet).toEqual([null, 'FakeUnet', expect.objectContaining({ pretrained_model_name_or_path: null })]);
    expect(index.text_encoder[2].pretrained_model_name_or_path).toBe('org/text-repo');
    expect(warn.mock.calls.flat().join('\n')).toMatch(/'unet' \(FakeUnet\) cannot write its files/);
  });
});
