import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFamily, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { Generator, generateTinySdxlRepo, type RgbImage } from '@modular-diffusers/runtime';
import { IMAGE2IMAGE_BLOCKS, sdxl, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { installHub } from '@modular-diffusers/hub';
import { loadRemoteBlocks, type RemoteCallablePipeline } from './index.js';
import { bundlePlugin } from './remote-test-kit.test-helpers.js';

// A plugin that only re-exports SDXL's text2img preset: the whole block graph then runs in the
// sandbox, with the ONNX models, tokenizers and image processor reached through host proxies.
const PLUGIN = `import { SequentialPipelineBlocks } from '@modular-diffusers/core';
import { IMAGE2IMAGE_BLOCKS, TEXT2IMAGE_BLOCKS } from '@modular-diffusers/sdxl/blocks';
export class Text2ImageBlocks extends SequentialPipelineBlocks {
  static blockClasses = TEXT2IMAGE_BLOCKS.values();
  static blockNames = TEXT2IMAGE_BLOCKS.keys();
}
export class Image2ImageBlocks extends SequentialPipelineBlocks {
  static blockClasses = IMAGE2IMAGE_BLOCKS.values();
  static blockNames = IMAGE2IMAGE_BLOCKS.keys();
}
defineBlocks(1, () => ({ Text2ImageBlocks, Image2ImageBlocks }));`;

// The host side loads SDXL's ONNX components through the Hub resolver, so it composes both (importing registers nothing).
installHub();
registerFamily(sdxl);

let base: string;
let repo: string;
let remote: RemoteCallablePipeline;
let source: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sdxl-remote-'));
  repo = join(base, 'repo');
  await generateTinySdxlRepo(repo, {});
  source = await bundlePlugin(PLUGIN);
  const blocks = await loadRemoteBlocks({ source, filename: 'plugin.js', exportName: 'Text2ImageBlocks', repo: 'me/text2img', commit: 'local' });
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

  it('run img2img with a seeded generator handed through to the host VAE, matching the host run', async () => {
    const blocks = await loadRemoteBlocks({ source, filename: 'plugin.js', exportName: 'Image2ImageBlocks', repo: 'me/img2img', commit: 'local' });
    const img2img = blocks.initPipeline(repo) as RemoteCallablePipeline;
    try {
      await img2img.loadComponents();
      const picture: RgbImage = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).map((_, k) => (k * 37) % 256) };
      const img2imgInputs = { ...inputs, image: picture, strength: 0.5 };
      const [sandboxed] = (await img2img({ ...img2imgInputs, generator: new Generator(11), output: 'images' })) as RgbImage[];
      const host = SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS).initPipeline(repo);
      await host.loadComponents();
      const [local] = (await host({ ...img2imgInputs, generator: new Generator(11), output: 'images' })) as RgbImage[];
      expect(Buffer.from(sandboxed.data).equals(Buffer.from(local.data))).toBe(true);
    } finally {
      await img2img.dispose();
    }
  });
});
