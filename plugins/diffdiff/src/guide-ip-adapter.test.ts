import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SequentialPipelineBlocks, registerFamily, setDefaultRepoResolver, type RepoResolver } from '@modular-diffusers/core';
import { Generator, loadImage, saveImage, type PipelineImage } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, sdxl, StableDiffusionXLAutoIPAdapterStep } from '@modular-diffusers/sdxl';
import { horizontalGradient, solid } from '../test/images.js';
import { releaseComponents } from '../test/tiny-repo.js';
import { DIFFDIFF_BLOCKS } from './presets.js';

// The guide's "Adding IP-adapter" section as written (TypeScript casing) on the files people publish:
// a diffusers-format SDXL repo (the tiny real-architecture one, packages/sdxl/fixtures/real-arch/repo)
// standing in for YiYiXu/modular-demo-auto, and h94/IP-Adapter's layout (sdxl_models/ip-adapter_sdxl.safetensors
// + sdxl_models/image_encoder/, packages/sdxl/fixtures/adapters/ip-adapter/repo). No export step: the UNet is
// rebuilt with the adapter in its graph. The guide names ip-adapter_sdxl.bin; pickles are refused (naming this
// file), so the safetensors file h94 publishes beside it is loaded.

const SDXL_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages', 'sdxl', 'fixtures');
const ORANGE = [230, 120, 20] as const;

let hub: string;
let previousResolver: RepoResolver | null;
const opened: any[] = [];

registerFamily(sdxl);

beforeAll(async () => {
  // Repo ids resolve to folders under `hub`, as the Hub resolver resolves them to the HF cache.
  hub = await mkdtemp(join(tmpdir(), 'guide-ip-adapter-'));
  for (const [id, folder] of [['YiYiXu/modular-demo-auto', 'real-arch/repo'], ['h94/IP-Adapter', 'adapters/ip-adapter/repo']] as const) {
    await mkdir(dirname(join(hub, id)), { recursive: true });
    await symlink(join(SDXL_FIXTURES, folder), join(hub, id), 'dir');
  }
  previousResolver = setDefaultRepoResolver(new LocalFolderRepoResolver({ root: hub }));
  await saveImage(solid(224, ORANGE), join(hub, 'diffdiff_orange.png'));
  await saveImage(solid(64, [40, 160, 60]), join(hub, 'apple.png'));
  await saveImage(horizontalGradient(64), join(hub, 'gradient_mask.png'));
});
afterAll(async () => {
  for (const pipe of opened) await releaseComponents(pipe);
  setDefaultRepoResolver(previousResolver);
  await rm(hub, { recursive: true, force: true });
});

it("runs the guide's IP-Adapter section on h94/IP-Adapter's safetensors, and the adapter image moves the output", async () => {
  const ipAdapterBlock = new StableDiffusionXLAutoIPAdapterStep();
  const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
  ddBlocks.blocks.insert('ip_adapter', ipAdapterBlock, 0);

  const ddPipeline: any = ddBlocks.initPipeline('YiYiXu/modular-demo-auto', { collection: 'diffdiff' });
  opened.push(ddPipeline);
  await ddPipeline.loadComponents();
  // The guide's line names the pickle; it is refused before anything loads, naming the file to use instead.
  await expect(ddPipeline.loader.loadIpAdapter('h94/IP-Adapter', { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.bin' })).rejects.toThrow(
    /weightName: 'ip-adapter_sdxl.safetensors'/,
  );
  await ddPipeline.loader.loadIpAdapter('h94/IP-Adapter', { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' });
  ddPipeline.loader.setIpAdapterScale(0.6);

  const ipAdapterImage = await loadImage(join(hub, 'diffdiff_orange.png'));
  const image = await loadImage(join(hub, 'apple.png'));
  const mask = await loadImage(join(hub, 'gradient_mask.png'));

  const prompt = 'a green pear';
  const negativePrompt = 'blurry';
  const run = async () => {
    const generator = new Generator(42);
    return (
      await ddPipeline({
        prompt,
        negative_prompt: negativePrompt,
        num_inference_steps: 25,
        generator,
        ip_adapter_image: ipAdapterImage,
        diffdiff_map: mask,
        image,
        output: 'images',
      })
    )[0] as PipelineImage;
  };
  const adapted = await run();
  expect([adapted.width, adapted.height]).toEqual([64, 64]);
  expect(ddPipeline.unet.acceptsImageEmbeds).toBe(true);
  expect(ddPipeline.getComponentSpec('image_encoder').subfolder).toBe('sdxl_models/image_encoder');

  ddPipeline.loader.setIpAdapterScale(0);
  const without = await run();
  let total = 0;
  for (let i = 0; i < adapted.data.length; i++) total += Math.abs(adapted.data[i]! - without.data[i]!);
  // The changed (dark) side of the gradient map is regenerated under the adapter: a clear shift in 8-bit levels.
  expect(total / adapted.data.length).toBeGreaterThan(2);

  const path = join(hub, 'diffdiff-ip-adapter-safetensors.png');
  await adapted.save(path);
  expect((await stat(path)).size).toBeGreaterThan(0);
});

