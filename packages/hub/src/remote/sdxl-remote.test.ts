import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, generateTinySdxlRepo, type RgbImage } from '@modular-diffusers/runtime';
import { TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { loadRemoteBlocks, type RemoteCallablePipeline } from '../index.js';
import { bundlePlugin } from './remote-test-kit.test-helpers.js';

// A plugin that only re-exports SDXL's text2img preset: the whole block graph then runs in the
// sandbox, with the ONNX models, tokenizers and image processor reached through host proxies.
const PLUGIN = `import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl/blocks';
export class Text2ImageBlocks extends SequentialPipelineBlocks {
  static blockClasses = TEXT2IMAGE_BLOCKS.values();
  static blockNames = TEXT2IMAGE_BLOCKS.keys();
}
defineBlocks(1, () => ({ Text2ImageBlocks }));`;

let base: string;
let repo: string;
let remote: RemoteCallablePipeline;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sdxl-remote-'));
  repo = join(base, 'repo');
  await generateTinySdxlRepo(repo, {});
  const blocks = await loadRemoteBlocks({ source: await bundlePlugin(PLUGIN), filename: 'plugin.js', exportName: 'Text2ImageBlocks', repo: 'me/text2img', commit: 'local' });
  remote = blocks.initPipeline(repo) as RemoteCallablePipeline;
  await remote.loadComponents();
}, 120_000);

afterAll(async () => {
  await remote?.dispose();
  await rm(base, { recursive: true, force: true });
});

describe('SDXL blocks inside the sandbox', () => {
  const inputs = { prompt: 'a green pear', negative_prompt: 'blurry', num_inference_steps: 4, height: 64, width: 64 };

  it('print like the same class defined on the host', () => {
    class Text2ImageBlocks extends SequentialPipelineBlocks {
      static override blockClasses = TEXT2IMAGE_BLOCKS.values();
      static override blockNames = TEXT2IMAGE_BLOCKS.keys();
    }
    expect(remote.blocks.toString()).toBe(new Text2ImageBlocks().toString());
    expect(remote.doc).toBe(new Text2ImageBlocks().doc);
  });

  it('give the same image as the same blocks on the host, from the same seeded generator, and write a PNG', async () => {
    const [sandboxed] = (await remote({ ...inputs, generator: new Generator(7), output: 'images' })) as (RgbImage & { save(path: string): Promise<void> })[];
    const host = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(repo);
    await host.loadComponents();
    const [local] = (await host({ ...inputs, generator: new Generator(7), output: 'images' })) as RgbImage[];
    expect([sandboxed.width, sandboxed.height]).toEqual([64, 64]);
    expect(Buffer.from(sandboxed.data).equals(Buffer.from(local.data))).toBe(true);
    const path = join(base, 'sandboxed.png');
    await sandboxed.save(path);
    expect((await stat(path)).size).toBeGreaterThan(0);
  });
});
