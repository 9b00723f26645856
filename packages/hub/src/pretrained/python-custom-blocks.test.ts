// A diffusers custom-block repo (tests/modular_pipelines/test_modular_pipelines_custom_blocks.py saves these:
// modular_config.json with auto_map {"ModularPipelineBlocks": "block.MyBlocks"} beside block.py) is Python code.
import { ModularPipeline, ModularPipelineBlocks } from '@modular-diffusers/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installHubIntegration } from './install-hub-integration.js';
import { PythonRemoteCodeError } from './pretrained-errors.js';
import { PIPE_INDEX, fakeLoaders, startHubFixture, type HubFixture } from './pretrained-fixtures.test-helpers.js';

const PY_REPO = 'org/python-blocks';
const CONFIG = { _class_name: 'MyBlocks', _diffusers_version: '0.36.0', auto_map: { ModularPipelineBlocks: 'block.MyBlocks' } };
let hub: HubFixture;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  installHubIntegration();
  hub = await startHubFixture();
  await hub.seed(PY_REPO, { 'modular_config.json': JSON.stringify(CONFIG), 'block.py': 'class MyBlocks(ModularPipelineBlocks):\n    pass\n', 'modular_model_index.json': JSON.stringify(PIPE_INDEX) });
  await hub.seed('org/python-only', { 'modular_config.json': JSON.stringify(CONFIG), 'block.py': 'class MyBlocks: pass\n' });
});

afterAll(async () => {
  await hub?.close();
});

describe('a repo whose blocks are Python (diffusers custom blocks)', () => {
  const options = () => ({ hubUrl: hub.server.url, ...hub.fresh(), loaderRegistry: fakeLoaders() });

  it('is refused as Python code, trusted or not, naming the file, the class and that the index can still be used', async () => {
    for (const trustRemoteCode of [false, true]) {
      const error = await ModularPipeline.fromPretrained(PY_REPO, { ...options(), trustRemoteCode }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PythonRemoteCodeError);
      const message = (error as Error).message;
      expect(message).toMatch(/org\/python-blocks at commit [0-9a-f]{40} is a diffusers custom-block repo: its blocks \(MyBlocks\) are Python code in block\.py/);
      expect(message).toContain('which this runtime cannot run');
      expect(message).toContain("Its modular_model_index.json still names the components: use them with blocks of your own, e.g. new MyBlocks().initPipeline('org/python-blocks')");
      expect(message).not.toMatch(/malformed|block\.js/);
    }
    await expect(ModularPipelineBlocks.fromPretrained(PY_REPO, options())).rejects.toThrow(PythonRemoteCodeError);
  });

  it('without an index, only says how to port the blocks', async () => {
    const error = (await ModularPipelineBlocks.fromPretrained('org/python-only', options()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PythonRemoteCodeError);
    expect(error.message).not.toContain('modular_model_index.json');
    expect(error.message).toContain('port them to a JavaScript plugin (`modular create`)');
  });
});
