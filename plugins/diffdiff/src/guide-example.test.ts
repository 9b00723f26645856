import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SequentialPipelineBlocks, getDefaultRepoResolver, registerFamily, setDefaultRepoResolver, type RepoResolver } from '@modular-diffusers/core';
import { PipelineImage, loadImage, saveImage } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, sdxl } from '@modular-diffusers/sdxl';
import { horizontalGradient, solid } from '../test/images.js';
import { createTinyRepo, releaseComponents, type TinyRepoFixture } from '../test/tiny-repo.js';
import { DIFFDIFF_BLOCKS } from './presets.js';

// The guide's example script, in TypeScript casing, against the tiny SDXL repo as a local folder
// (the Hub package's installHub() installs a Hub resolver instead; the lines below stay the same).
// The one explicit line the guide's `import diffusers` stands for: SDXL's loaders and pipeline class.
registerFamily(sdxl);

let fixture: TinyRepoFixture;
let previousResolver: RepoResolver | null;
let imagePath: string;
let maskPath: string;

beforeAll(async () => {
  fixture = await createTinyRepo();
  previousResolver = setDefaultRepoResolver(new LocalFolderRepoResolver());
  imagePath = join(fixture.outDir, 'apple.png');
  maskPath = join(fixture.outDir, 'gradient_mask.png');
  await saveImage(solid(64), imagePath);
  await saveImage(horizontalGradient(64), maskPath);
});
afterAll(async () => {
  setDefaultRepoResolver(previousResolver);
  await fixture.dispose();
});

it("runs the guide's example script as written", async () => {
  const repo = fixture.dir;
  const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
  const ddPipeline = ddBlocks.initPipeline(repo, { collection: 'diffdiff' });
  await ddPipeline.loadComponents();

  const image = await loadImage(imagePath);
  const mask = await loadImage(maskPath);
  const prompt = 'a green pear';
  const negative_prompt = 'blurry';

  const images = await ddPipeline.run({
    prompt,
    negative_prompt,
    num_inference_steps: 25,
    diffdiff_map: mask,
    image,
    output: 'images',
  });
  // Blocks composed at run time type no outputs: the first image is narrowed before use.
  const first = Array.isArray(images) ? images[0] : null;
  if (!(first instanceof PipelineImage)) throw new Error(`expected images with save(), got ${String(images)}`);
  const path = join(fixture.outDir, 'diffdiff_out.png');
  await first.save(path);

  expect(getDefaultRepoResolver()).toBeInstanceOf(LocalFolderRepoResolver);
  expect(ddPipeline.nullComponentNames).toEqual([]);
  expect([first.width, first.height]).toEqual([64, 64]);
  expect((await stat(path)).size).toBeGreaterThan(0);
  await releaseComponents(ddPipeline as never);
});
