/**
 * `npm run demo`: the project's main job, end to end, on this machine.
 *
 * 1. Writes a tiny random-weight SDXL repo (the real ONNX I/O signatures) and serves it from the
 *    project's local Hub server on loopback.
 * 2. Prints the developer guide's IMAGE2IMAGE and DIFFDIFF block structures.
 * 3. Loads an SDXL pipeline with `ModularPipeline.fromPretrained` through the real
 *    `@huggingface/hub` client (download into a Hugging Face cache), runs text-to-image on ONNX
 *    Runtime and writes a PNG.
 * 4. Builds plugins/diffdiff (the guide's differential diffusion) with `modular build` and publishes
 *    it to the local Hub with `modular publish`, as a plugin author would.
 * 5. Loads it back with `ModularPipeline.fromPretrained(repo, { trustRemoteCode: true })` (its code
 *    runs in the sandbox), runs the guide's example (change map, prompt, negative prompt, 25 steps)
 *    and writes `diffdiff_out.png`.
 *
 * Against the real Hub the same calls take a real repo id and no hubUrl (see README).
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ComponentsManager, ModularPipeline, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { buildPlugin, publishPlugin } from '@modular-diffusers/cli';
import { startHubServer } from '@modular-diffusers/hub';
import { Generator, generateTinySdxlRepo, type RgbImage } from '@modular-diffusers/runtime';
import { IMAGE2IMAGE_BLOCKS } from '@modular-diffusers/sdxl';
import { DIFFDIFF_BLOCKS } from '@modular-diffusers/plugin-diffdiff';

const root = resolve(import.meta.dirname, '..');
const work = join(root, 'out', 'demo');
const shown = (path: string) => relative(process.cwd(), path) || '.';

function heading(text: string): void {
  console.log(`\n${'='.repeat(text.length)}\n${text}\n${'='.repeat(text.length)}`);
}

/**
 * The guide's pictures, drawn here since this machine may have no internet: a red apple on a
 * light table, and a change map that keeps the left half (white), changes the right half (black)
 * and fades between them across the middle fifth.
 */
function drawApple(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c * 1.1) ** 2 < (size * 0.32) ** 2;
      data.set(inside ? [196, 30, 40] : [235, 225, 205], (y * size + x) * 3);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

function drawGradientMap(size: number): RgbImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = Math.round(255 * Math.min(1, Math.max(0, (0.6 - x / (size - 1)) / 0.2)));
  return { width: size, height: size, channels: 1, data };
}

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });

heading('1. A tiny SDXL repo on a local Hub');
const repoDir = join(work, 'tiny-sdxl');
// unetPriorStd: the tiny UNet keeps nearly clean latents, so the kept part of the picture shows.
await generateTinySdxlRepo(repoDir, { unetPriorStd: 0.5 });
const hub = await startHubServer({ root: join(work, 'hub'), tokens: { hf_demo_token: 'demo' } });
const repoId = 'modular-diffusers/tiny-sdxl';
const imported = await hub.importFolder(repoId, repoDir);
console.log(`Serving ${repoId}@${imported.commitOid.slice(0, 8)} at ${hub.url} (${imported.files.length} files)`);
// What a user of the real Hub would set (or leave unset for huggingface.co and ~/.cache/huggingface).
process.env.HF_ENDPOINT = hub.url;
process.env.HF_HUB_CACHE = join(work, 'hf-cache');
// HF_HOME too: the remote-code lock and listings live in $HF_HOME/modular-diffusers, and the demo's
// local Hub is new on every run, so its pins must not outlive out/demo.
process.env.HF_HOME = join(work, 'hf-home');
process.env.HF_TOKEN = 'hf_demo_token';

try {
  heading("2. The guide's block structures");
  console.log('IMAGE2IMAGE_BLOCKS:');
  console.log(SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS).toString());
  console.log('\nDIFFDIFF_BLOCKS:');
  const ddBlocks = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS);
  console.log(ddBlocks.toString());

  heading('3. fromPretrained + text-to-image');
  const components = new ComponentsManager();
  const pipeline = await ModularPipeline.fromPretrained(repoId, { componentsManager: components, collection: 'sdxl' });
  await pipeline.loadComponents();
  const size = 256;
  const started = performance.now();
  const [pear] = await pipeline.run({
    prompt: 'a green pear',
    negative_prompt: 'blurry',
    num_inference_steps: 25,
    height: size,
    width: size,
    generator: new Generator(42),
    output: 'images',
  });
  const text2imgPath = join(work, 'text2img_out.png');
  await pear.save(text2imgPath);
  console.log(`text2img: 25 steps in ${Math.round(performance.now() - started)} ms -> ${shown(text2imgPath)}`);

  heading('4. modular build + modular publish of plugins/diffdiff');
  // A copy, so the build output stays out of the source tree.
  const pluginDir = join(work, 'plugin-diffdiff');
  await cp(join(root, 'plugins', 'diffdiff', 'src'), join(pluginDir, 'src'), { recursive: true });
  await cp(join(root, 'plugins', 'diffdiff', 'package.json'), join(pluginDir, 'package.json'));
  const built = await buildPlugin(pluginDir, { componentsRepo: repoId });
  console.log(`Built ${built.bundleFile} (sha256 ${built.bundleSha256.slice(0, 12)}...) and ${built.files.length} files in ${shown(built.outDir)}`);
  // Its tests run in this repository's test suite (npm test); here the publish flow is shown.
  const published = await publishPlugin(pluginDir, { repo: 'demo/diffdiff', skipTests: true });
  console.log(`Published ${published.repo}@${published.commit.slice(0, 8)}: ${published.files.join(', ')}`);

  heading("5. fromPretrained(trustRemoteCode) + the guide's differential-diffusion example");
  const ddPipeline = await ModularPipeline.fromPretrained('demo/diffdiff', { trustRemoteCode: true, componentsManager: components, collection: 'diffdiff' });
  console.log('The blocks it loaded (described from inside the sandbox):');
  console.log(ddPipeline.blocks.toString());
  await ddPipeline.loadComponents();
  const image = drawApple(size);
  const mask = drawGradientMap(size);
  const [out] = await ddPipeline.run({
    prompt: 'a green pear',
    negative_prompt: 'blurry',
    num_inference_steps: 25,
    diffdiff_map: mask,
    image,
    generator: new Generator(42),
    output: 'images',
  });
  const outPath = join(work, 'diffdiff_out.png');
  await out.save(outPath);
  await (ddPipeline as { dispose?: () => Promise<void> }).dispose?.();
  console.log(components.summary());
  console.log(`\nWrote ${shown(outPath)}: the apple is kept where the change map is white (left) and repainted in the prompt's colour where it is black (right), with the gradient between.`);
} finally {
  await hub.close();
}
