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
 * 6. Serves the real-architecture fixture (diffusers' own UNet2DConditionModel, AutoencoderKL and
 *    CLIP encoders with random weights, laid out like stabilityai/stable-diffusion-xl-base-1.0:
 *    Optimum-named ONNX beside the diffusers weights), loads it with `fromPretrained`, checks a
 *    text-to-image run against the latents diffusers computed, and writes `real_arch_out.png`.
 * 7. Serves a tiny IP-Adapter laid out like h94/IP-Adapter (sdxl_models/ip-adapter_sdxl.safetensors
 *    + image_encoder/), loads it into that pipeline with `loader.loadIpAdapter` (built into the UNet
 *    graph, no export step), checks a scale-0.6 run against diffusers' and writes `ip_adapter_out.png`.
 * 8. Serves a ControlNet as diffusers publishes it (config.json + safetensors, no ONNX), loads it
 *    with `loadComponents('controlnet', { repo })`: the model builder builds its graph and the
 *    UNet's with residual inputs; checks the run against diffusers' ControlNet pipeline and writes
 *    `controlnet_out.png`.
 *
 * Against the real Hub the same calls take a real repo id and no hubUrl (see README).
 */
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ComponentsManager, ModularPipeline, registerFamily, SequentialPipelineBlocks } from '@modular-diffusers/core';
import { buildPlugin, publishPlugin } from '@modular-diffusers/cli';
import { installHub } from '@modular-diffusers/hub';
import { installSandbox } from '@modular-diffusers/sandbox';
import { startHubServer } from '@modular-diffusers/hub-server';
import { demoControlNetFromSafetensors } from './demo-controlnet.js';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Generator, Tensor, generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { guideImages, writeGuideImages } from './demo-images.js';
import { IMAGE2IMAGE_BLOCKS, sdxl, type SdxlPipelineLoader } from '@modular-diffusers/sdxl';
import { DIFFDIFF_BLOCKS } from '@modular-diffusers/plugin-diffdiff';

// Importing a package registers nothing: the demo composes what it runs, as an application does.
installHub();
installSandbox();
registerFamily(sdxl);

const root = resolve(import.meta.dirname, '..');
const work = join(root, 'out', 'demo');
const shown = (path: string) => relative(process.cwd(), path) || '.';

function heading(text: string): void {
  console.log(`\n${'='.repeat(text.length)}\n${text}\n${'='.repeat(text.length)}`);
}

const REAL_ARCH_REFERENCES = join(root, 'packages', 'sdxl', 'fixtures', 'real-arch', 'references', 'references.safetensors');
const IP_ADAPTER_FIXTURE = join(root, 'packages', 'sdxl', 'fixtures', 'adapters', 'ip-adapter');

/** One tensor of a fixture's references.safetensors (default: real-arch's), as stored. */
async function referenceBytes(name: string, file = REAL_ARCH_REFERENCES): Promise<{ bytes: ArrayBuffer; shape: number[] }> {
  const raw = await readFile(file);
  const length = Number(raw.readBigUInt64LE(0));
  const entry = JSON.parse(raw.subarray(8, 8 + length).toString('utf8'))[name] as { shape: number[]; data_offsets: [number, number] };
  const [start, end] = entry.data_offsets.map((o) => raw.byteOffset + 8 + length + o);
  return { bytes: raw.buffer.slice(start, end), shape: entry.shape };
}

/** One float32 tensor of a fixture's references (default: real-arch's). */
async function referenceTensor(name: string, file = REAL_ARCH_REFERENCES): Promise<Tensor<'float32'>> {
  const { bytes, shape } = await referenceBytes(name, file);
  return new Tensor('float32', new Float32Array(bytes), shape);
}

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });

const images = await writeGuideImages(work, 256);
console.log(`The guide's input images: ${shown(images.imagePath)}, ${shown(images.maskPath)}`);

heading('1. A tiny SDXL repo on a local Hub');
const repoDir = join(work, 'tiny-sdxl');
// unetPriorStd: the tiny UNet keeps nearly clean latents, so the kept part of the picture shows.
await generateTinySdxlRepo(repoDir, { unetPriorStd: 0.5 });
const hub = await startHubServer({ root: join(work, 'hub'), tokens: { hf_demo_token: 'demo' } });
const repoId = 'modular-diffusers/tiny-sdxl';
const imported = await hub.importFolder(repoId, repoDir);
console.log(`Serving ${repoId}@${imported.commitOid.slice(0, 8)} at ${hub.url} (${imported.files} files)`);
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
  // The same pictures the README's `modular run ... --image out/demo/apple.png` reads.
  const { image, mask } = guideImages(size);
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

  heading("6. Real-architecture exports: diffusers' own SDXL classes, stabilityai's layout");
  const realId = 'demo/real-arch-sdxl';
  const realImported = await hub.importFolder(realId, join(root, 'packages', 'sdxl', 'fixtures', 'real-arch', 'repo'));
  const real = await ModularPipeline.fromPretrained(realId, { componentsManager: components, collection: 'real-arch' });
  await real.loadComponents();
  // diffusers' SDXL pipelines take guidance_scale per call; a modular pipeline keeps it on its guider.
  real.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
  const expected = await referenceTensor('text2img_prompt.final_latents');
  const latents = (await real.run({
    prompt: 'a photo of a red fox in the snow',
    negative_prompt: 'blurry low quality',
    num_inference_steps: 4,
    height: 64,
    width: 96,
    latents: await referenceTensor('text2img_prompt.latents'),
    output: 'latents',
  })) as Tensor<'float32'>;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) {
    diff = Math.max(diff, Math.abs(latents.data[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  console.log(`${realId}@${realImported.commitOid.slice(0, 8)}: 4-step text2img from the prompt, latents within ${(diff / scale).toExponential(1)} of diffusers' (relative to their magnitude)`);
  const realStarted = performance.now();
  const [fox] = await real.run({ prompt: 'a photo of a red fox in the snow', num_inference_steps: 4, height: 512, width: 512, generator: new Generator(42), output: 'images' });
  const realPath = join(work, 'real_arch_out.png');
  await fox.save(realPath);
  console.log(`512x512, 4 steps in ${Math.round(performance.now() - realStarted)} ms -> ${shown(realPath)} (random weights: the picture is noise-like by design)`);

  heading("7. An IP-Adapter from h94/IP-Adapter's safetensors layout, built into the UNet");
  const ipId = 'demo/IP-Adapter';
  const ipImported = await hub.importFolder(ipId, join(IP_ADAPTER_FIXTURE, 'repo'));
  const loader = real.loader as SdxlPipelineLoader;
  const ipStarted = performance.now();
  await loader.loadIpAdapter(ipId, { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' });
  loader.setIpAdapterScale(0.6);
  console.log(`${ipId}@${ipImported.commitOid.slice(0, 8)}: sdxl_models/ip-adapter_sdxl.safetensors built into the UNet and sdxl_models/image_encoder built, in ${Math.round(performance.now() - ipStarted)} ms`);
  const ipReferences = join(IP_ADAPTER_FIXTURE, 'references', 'references.safetensors');
  const adapterImage = await referenceBytes('ip_adapter_image.uint8', ipReferences);
  const ipInputs = {
    prompt_embeds: await referenceTensor('text2img.prompt_embeds'),
    negative_prompt_embeds: await referenceTensor('text2img.negative_prompt_embeds'),
    pooled_prompt_embeds: await referenceTensor('text2img.pooled_prompt_embeds'),
    negative_pooled_prompt_embeds: await referenceTensor('text2img.negative_pooled_prompt_embeds'),
    ip_adapter_image: { height: adapterImage.shape[0]!, width: adapterImage.shape[1]!, channels: 3, data: new Uint8Array(adapterImage.bytes) },
    num_inference_steps: 4,
    height: 64,
    width: 96,
  };
  const ipExpected = await referenceTensor('text2img.final_latents', ipReferences);
  const ipLatents = (await real.run({ ...ipInputs, latents: await referenceTensor('text2img.latents'), output: 'latents' })) as Tensor<'float32'>;
  let ipDiff = 0;
  let ipScale = 0;
  for (let i = 0; i < ipExpected.size; i++) {
    ipDiff = Math.max(ipDiff, Math.abs(ipLatents.data[i]! - ipExpected.data[i]!));
    ipScale = Math.max(ipScale, Math.abs(ipExpected.data[i]!));
  }
  console.log(`IP-Adapter scale 0.6, 4-step text2img: latents within ${(ipDiff / ipScale).toExponential(1)} of diffusers' StableDiffusionXLPipeline with the adapter loaded`);
  const [adapted] = await real.run({ ...ipInputs, latents: await referenceTensor('text2img.latents'), output: 'images' });
  const ipPath = join(work, 'ip_adapter_out.png');
  await adapted.save(ipPath);
  console.log(`-> ${shown(ipPath)}`);

  heading('8. A ControlNet as people publish it: diffusers safetensors, built in-process');
  await demoControlNetFromSafetensors({ hub, work, sdxlRepo: realId, componentsManager: components });
} finally {
  await hub.close();
}
