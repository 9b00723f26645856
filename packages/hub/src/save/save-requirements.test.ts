// diffusers tests/modular_pipelines/test_modular_pipelines_custom_blocks.py::TestCustomBlockRequirements (commit
// 58eb52c): requirements declared by leaf blocks are gathered through sequential, conditional and loop blocks into
// modular_config.json. The expected files are what diffusers itself wrote for the same blocks
// (tools/reference/diffusers-repo-files/make_requirements.py -> requirements/<case>/modular_config.json).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalPipelineBlocks,
  DIFFUSERS_FORMAT_VERSION,
  LoopSequentialPipelineBlocks,
  PipelineBlock,
  SequentialPipelineBlocks,
  flattenRequirements,
  type ModularPipelineBlocks,
} from '@modular-diffusers/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installHubIntegration } from '../pretrained/install-hub-integration.js';
import { parseModularConfig } from '../pretrained/modular-config.js';

class DummyBlockOne extends PipelineBlock {
  static override requirements = { xyz: '>=0.8.0', abc: '>=10.0.0' };
}
class DummyBlockTwo extends PipelineBlock {
  static override requirements = { transformers: '>=4.44.0', diffusers: '>=0.2.0' };
}
class DummyConditionalBlocks extends ConditionalPipelineBlocks {
  static override blockClasses = [DummyBlockOne, DummyBlockTwo];
  static override blockNames = ['block_one', 'block_two'];
  override selectBlock(): string | null {
    return 'block_one';
  }
}
class NpmBlock extends PipelineBlock {
  static override npmRequirements = { '@modular-diffusers/sdxl': '^0.1.0' };
}

const reference = async (name: string) =>
  JSON.parse(await readFile(new URL(`../../../../tools/reference/diffusers-repo-files/requirements/${name}/modular_config.json`, import.meta.url), 'utf8'));

let root: string;
beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  installHubIntegration();
  root = await mkdtemp(join(tmpdir(), 'requirements-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const saved = async (blocks: ModularPipelineBlocks, name: string) => {
  const dir = join(root, name);
  await blocks.savePretrained(dir, { modelCard: false });
  return JSON.parse(await readFile(join(dir, 'modular_config.json'), 'utf8'));
};

describe('diffusers TestCustomBlockRequirements', () => {
  it('test_sequential_block_requirements_save_load', async () => {
    const config = await saved(SequentialPipelineBlocks.fromBlocksDict({ dummy_block_one: DummyBlockOne, dummy_block_two: DummyBlockTwo }), 'sequential');
    const expected = await reference('sequential');
    expect(config.requirements).toEqual(expected.requirements);
    expect(Object.keys(config.requirements)).toEqual(Object.keys(expected.requirements));
    expect(config._diffusers_version).toBe(expected._diffusers_version);
    expect(DIFFUSERS_FORMAT_VERSION).toBe(expected._diffusers_version);
  });

  it('test_conditional_block_requirements_save_load', async () => {
    expect((await saved(new DummyConditionalBlocks(), 'conditional')).requirements).toEqual((await reference('conditional')).requirements);
  });

  it('test_loop_block_requirements_save_load', async () => {
    const loop = LoopSequentialPipelineBlocks.fromBlocksDict({ block_one: DummyBlockOne, block_two: DummyBlockTwo });
    expect((await saved(loop, 'loop')).requirements).toEqual((await reference('loop')).requirements);
  });

  it('nests sub-block requirements under their names, as diffusers _requirements does', () => {
    const seq = SequentialPipelineBlocks.fromBlocksDict({ one: DummyBlockOne, two: DummyBlockTwo });
    expect(seq.requirements).toEqual({ one: { xyz: '>=0.8.0', abc: '>=10.0.0' }, two: { transformers: '>=4.44.0', diffusers: '>=0.2.0' } });
    // diffusers' _normalize_requirements: a bare version pins it
    expect(flattenRequirements({ a: { torch: '2.1.0' } }, 'python')).toEqual({ torch: '==2.1.0' });
  });
});

describe('npm requirements have a key of their own', () => {
  it('an npm range is written as npm_requirements, never as requirements (diffusers parses those as PEP 440)', async () => {
    const config = await saved(SequentialPipelineBlocks.fromBlocksDict({ npm: NpmBlock, one: DummyBlockOne }), 'npm');
    expect(config.npm_requirements).toEqual({ '@modular-diffusers/sdxl': '^0.1.0' });
    expect(config.requirements).toEqual({ abc: '>=10.0.0', xyz: '>=0.8.0' });
  });

  it('refuses an npm range declared as a Python requirement, before writing anything', async () => {
    class Wrong extends PipelineBlock {
      static override requirements = { '@modular-diffusers/sdxl': '^0.1.0' };
    }
    await expect(new Wrong().savePretrained(join(root, 'wrong'))).rejects.toThrow(/'\^0\.1\.0' is an npm range.*npmRequirements/);
    await expect(readFile(join(root, 'wrong', 'modular_model_index.json'))).rejects.toThrow(/ENOENT/);
  });

  it('reads npm ranges that older repos of this project wrote under requirements as npm requirements', () => {
    const config = parseModularConfig({ requirements: { '@modular-diffusers/core': '^0.1.0', torch: '>=2' } }, 'o/r');
    expect(config.npmRequirements).toEqual({ '@modular-diffusers/core': '^0.1.0' });
    expect(config.requirements).toEqual({ torch: '>=2' });
  });
});
