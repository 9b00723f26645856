/**
 * A ControlNet as people publish it (a diffusers folder: config.json +
 * diffusion_pytorch_model.safetensors, no ONNX) on an SDXL repo in diffusers'
 * format only: both the ControlNet and the UNet are built by the model
 * builder, and the UNet gets its residual inputs by itself when the
 * ControlNet first runs. Against diffusers' own ControlNetModel forward and
 * StableDiffusionXLControlNetPipeline (packages/sdxl/fixtures/adapters/controlnet,
 * made by tools/reference/adapter-fixtures/controlnet): the residuals within
 * 1e-5 of their magnitude; text2img at controlnet_conditioning_scale 0.5
 * (plain, control_guidance_end 0.5, guess mode) within 1e-4 on the final
 * latents and 2 levels on the uint8 image, the tolerances. Bad input
 * (an SD 1.5 ControlNet, a missing weight, a config the builder does not
 * build) fails naming the file and the key before any model runs.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, type Logger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { ArchitectureMismatchError, buildModel, listModelWeights, readSafetensorsHeader } from '@modular-diffusers/model-builder';
import { loadOnnxModel, Tensor, type RgbImage } from '@modular-diffusers/runtime';
import { AUTO_BLOCKS, CONTROLNET_TEXT2IMAGE_BLOCKS } from '../auto-presets.js';
import { ControlNetModel } from '../components/controlnet.js';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import type { UNet2DConditionModel } from '../components/unet.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import { REAL_ARCH_DIR, maxAbsDiff, relativeError } from './real-arch-fixture.test-helpers.js';

const FIXTURES = join(REAL_ARCH_DIR, '..', 'adapters', 'controlnet');
const CONTROLNET = join(FIXTURES, 'controlnet-tiny-sdxl');
const SD15_CONTROLNET = join(FIXTURES, 'controlnet-tiny-sd15');

let base: string;
const previousHfHome = process.env.HF_HOME;
let diffusersOnly: string;
let refs: Map<string, { shape: readonly number[]; data: Float32Array | Uint8Array }>;
let params: Record<string, any>;
const pipes: Array<{ components: Record<string, unknown> }> = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sdxl-controlnet-'));
  // A built-graph cache of this file's own: other files in the same worker build the same graphs,
  // and the first test checks that the ControlNet is built here.
  process.env.HF_HOME = join(base, 'hf-home');
  diffusersOnly = join(base, 'repo');
  // The real-arch repo without its ONNX exports, as SDXL repos are on the Hub: every model is built.
  await cp(join(REAL_ARCH_DIR, 'repo'), diffusersOnly, { recursive: true, filter: (src) => !/\.onnx(_data)?$/.test(src) && !/vae_(en|de)coder/.test(src) });
  refs = await readReferences(join(FIXTURES, 'references', 'references.safetensors'));
  params = JSON.parse(await readFile(join(FIXTURES, 'references', 'references.json'), 'utf8')).params;
});
afterAll(async () => {
  for (const pipe of pipes) await releaseComponents(pipe);
  if (previousHfHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = previousHfHome;
  await rm(base, { recursive: true, force: true });
});

async function readReferences(path: string) {
  const header = await readSafetensorsHeader(path);
  const bytes = await readFile(path);
  const out = new Map<string, { shape: readonly number[]; data: Float32Array | Uint8Array }>();
  for (const [name, info] of header.tensors) {
    const copy = new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer;
    out.set(name, { shape: info.shape, data: info.dtype === 'F32' ? new Float32Array(copy) : new Uint8Array(copy) });
  }
  return out;
}

const ref = (name: string) => {
  const r = refs.get(name);
  if (!r) throw new Error(`no reference ${name}`);
  return new Tensor('float32', r.data as Float32Array, r.shape);
};
const controlImage = (): RgbImage => {
  const r = refs.get('text2img.control_image_uint8')!;
  return { height: r.shape[0]!, width: r.shape[1]!, channels: 3, data: r.data as Uint8Array };
};

function recordingLogger(lines: string[]): Logger {
  return { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

async function pipeline(blocks: Parameters<typeof SequentialPipelineBlocks.fromBlocksDict>[0], log: string[] = []): Promise<any> {
  const pipe = (SequentialPipelineBlocks.fromBlocksDict(blocks) as any).initPipeline(diffusersOnly, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: recordingLogger(log),
  });
  await pipe.loadComponents({ onError: 'warn' });
  pipe.updateComponents({ guider: ClassifierFreeGuidance.fromConfig({ guidance_scale: params.guidance_scale }) });
  pipes.push(pipe);
  return pipe;
}

const inputs = (extra: Record<string, unknown> = {}) => ({
  prompt_embeds: ref('text2img.prompt_embeds'),
  negative_prompt_embeds: ref('text2img.negative_prompt_embeds'),
  pooled_prompt_embeds: ref('text2img.pooled_prompt_embeds'),
  negative_pooled_prompt_embeds: ref('text2img.negative_pooled_prompt_embeds'),
  height: params.height,
  width: params.width,
  num_inference_steps: params.num_inference_steps,
  control_image: controlImage(),
  controlnet_conditioning_scale: params.controlnet_conditioning_scale,
  ...extra,
});

describe('ControlNetModel built from its diffusers folder', () => {
  it.each(['controlnet-tiny-sdxl', 'controlnet-tiny-sd15', 'controlnet-union-tiny-sdxl'])(
    "%s: listModelWeights names exactly diffusers' state dict (keys and shapes)",
    async (name) => {
      const config = JSON.parse(await readFile(join(FIXTURES, name, 'config.json'), 'utf8'));
      const header = await readSafetensorsHeader(join(FIXTURES, name, 'diffusion_pytorch_model.safetensors'));
      const listed = listModelWeights(config._class_name, config);
      expect(Object.fromEntries([...listed].map(([k, shape]) => [k, [...shape]]))).toEqual(Object.fromEntries([...header.tensors].map(([k, info]) => [k, [...info.shape]])));
    },
  );

  it.each([true, false])("computes diffusers' residuals (forward at conditioning_scale 0.5, within 1e-5 of their magnitude), fusedOps %s", async (fusedOps) => {
    const built = await buildModel({ folder: CONTROLNET, cacheDir: join(base, 'built-graphs'), fusedOps });
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    const names = [0, 1, 2, 3, 4, 5].map((i) => `down_block_res_samples_${i}`);
    expect(model.outputNames).toEqual([...names, 'mid_block_res_sample']);
    const feeds: Record<string, Tensor> = { conditioning_scale: Tensor.float32([params['forward.conditioning_scale']], [1]) };
    for (const [key] of refs) if (key.startsWith('forward.input.')) feeds[key.slice('forward.input.'.length)] = ref(key);
    feeds.timestep = Tensor.float32([params['forward.timestep']], [1]);
    const out = await model.run(feeds);
    for (const name of [...names, 'mid_block_res_sample']) {
      const expected = ref(`forward.output.${name}`);
      expect(out[name]!.shape, name).toEqual(expected.shape);
      expect(relativeError(out[name]!.data as Float32Array, expected.data), name).toBeLessThan(1e-5);
    }
    await model.release();
  });

  it("global_pool_conditions averages each scaled residual over its pixels; 'bgr' order flips the control image's channels", async () => {
    const feeds: Record<string, Tensor> = { conditioning_scale: Tensor.float32([params['forward.conditioning_scale']], [1]) };
    for (const [key] of refs) if (key.startsWith('forward.input.')) feeds[key.slice('forward.input.'.length)] = ref(key);
    feeds.timestep = Tensor.float32([params['forward.timestep']], [1]);
    const variant = async (name: string, change: Record<string, unknown>) => {
      const folder = join(base, name);
      await cp(CONTROLNET, folder, { recursive: true });
      const path = join(folder, 'config.json');
      await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), ...change }));
      const built = await buildModel({ folder, cacheDir: join(base, 'built-graphs') });
      return loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    };

    const pooled = await variant('controlnet-global-pool', { global_pool_conditions: true });
    const out = await pooled.run(feeds);
    for (const name of [...[0, 1, 2, 3, 4, 5].map((i) => `down_block_res_samples_${i}`), 'mid_block_res_sample']) {
      // diffusers: torch.mean(residual * conditioning_scale, dim=(2, 3), keepdim=True), from its own residuals.
      const full = ref(`forward.output.${name}`);
      const [n, c, h, w] = full.shape as [number, number, number, number];
      const means = new Float32Array(n * c);
      for (let p = 0; p < n * c; p++) {
        let sum = 0;
        for (let k = 0; k < h * w; k++) sum += full.data[p * h * w + k]!;
        means[p] = sum / (h * w);
      }
      expect(out[name]!.shape, name).toEqual([n, c, 1, 1]);
      expect(maxAbsDiff(out[name]!.data as Float32Array, means), name).toBeLessThan(1e-5 * Math.max(...Array.from(full.data, Math.abs)));
    }
    await pooled.release();

    const bgr = await variant('controlnet-bgr', { controlnet_conditioning_channel_order: 'bgr' });
    const rgb = feeds.controlnet_cond as Tensor<'float32'>;
    const [n, , h, w] = rgb.shape as [number, number, number, number];
    const flipped = new Float32Array(rgb.size);
    for (let b = 0; b < n; b++) for (let ch = 0; ch < 3; ch++) flipped.set(rgb.data.subarray((b * 3 + ch) * h * w, (b * 3 + ch + 1) * h * w), (b * 3 + 2 - ch) * h * w);
    const fromBgr = await bgr.run({ ...feeds, controlnet_cond: new Tensor('float32', flipped, rgb.shape) });
    expect(relativeError(fromBgr.mid_block_res_sample!.data as Float32Array, ref('forward.output.mid_block_res_sample').data)).toBeLessThan(1e-5);
    await bgr.release();
  });
});

describe("loadComponents('controlnet', { repo }) on a diffusers-format SDXL repo", () => {
  let controlled: any;
  let log: string[];

  beforeAll(async () => {
    log = [];
    controlled = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS, log);
    await controlled.loadComponents('controlnet', { repo: CONTROLNET });
  });

  it('builds the ControlNet from its safetensors (no ONNX), and the UNet gets residual inputs by itself at the first ControlNet step', async () => {
    expect(controlled.controlnet).toBeInstanceOf(ControlNetModel);
    expect(log.some((line) => line.startsWith('controlnet: no ONNX export, built an ONNX graph'))).toBe(true);
    const unet = controlled.unet as UNet2DConditionModel;
    expect(unet.rebuildable).toBe(true);
    expect(unet.acceptsControlNetResiduals).toBe(false);
    const state = await controlled(inputs({ latents: ref('text2img.latents'), output_type: 'latent' }));
    expect(unet.acceptsControlNetResiduals).toBe(true);
    expect(log.filter((line) => line.startsWith('unet: rebuilt with ControlNet residual inputs'))).toHaveLength(1);
    const error = relativeError(state.get('latents').data, ref('text2img.final_latents').data);
    expect(error).toBeLessThan(1e-4);
  });

  it('matches StableDiffusionXLControlNetPipeline at scale 0.5: final latents within 1e-4, uint8 image within 2', async () => {
    const state = await controlled(inputs({ latents: ref('text2img.latents'), output_type: 'latent' }));
    expect(relativeError(state.get('latents').data, ref('text2img.final_latents').data)).toBeLessThan(1e-4);
    const [image] = (await controlled(inputs({ latents: ref('text2img.latents'), output: 'images' }))) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.get('text2img.image_uint8')!.data)).toBeLessThanOrEqual(2);
  });

  it.each([
    ['control_guidance_end 0.5', 'text2img_end', { control_guidance_end: 0.5 }],
    ['guess mode', 'text2img_guess', { guess_mode: true }],
  ] as const)('matches diffusers with %s (latents within 1e-4, uint8 within 2)', async (_title, name, extra) => {
    const state = await controlled(inputs({ ...extra, latents: ref('text2img.latents'), output_type: 'latent' }));
    expect(relativeError(state.get('latents').data, ref(`${name}.final_latents`).data)).toBeLessThan(1e-4);
    const [image] = (await controlled(inputs({ ...extra, latents: ref('text2img.latents'), output: 'images' }))) as RgbImage[];
    expect(maxAbsDiff(image!.data, refs.get(`${name}.image_uint8`)!.data)).toBeLessThanOrEqual(2);
  });

  it('moves the output: without the ControlNet the latents are diffusers\' scale-0 run, far from the controlled one', async () => {
    const plain = await pipeline(TEXT2IMAGE_BLOCKS);
    const { control_image: _image, controlnet_conditioning_scale: _scale, ...rest } = inputs();
    const state = await plain({ ...rest, latents: ref('text2img.latents'), output_type: 'latent' });
    const without = state.get('latents').data as Float32Array;
    expect(relativeError(without, ref('text2img_scale0.final_latents').data)).toBeLessThan(1e-4);
    // The controlled run is 37% of the latents' magnitude away (diffusers' own numbers: the fixture README).
    expect(relativeError(without, ref('text2img.final_latents').data)).toBeGreaterThan(0.2);
  });

  it("on stabilityai's layout (an ONNX UNet export without residual inputs beside the diffusers weights) the UNet is rebuilt from the weights", async () => {
    const lines: string[] = [];
    const pipe = (SequentialPipelineBlocks.fromBlocksDict(CONTROLNET_TEXT2IMAGE_BLOCKS) as any).initPipeline(join(REAL_ARCH_DIR, 'repo'), {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: recordingLogger(lines),
    });
    pipes.push(pipe);
    await pipe.loadComponents({ onError: 'warn' });
    pipe.updateComponents({ guider: ClassifierFreeGuidance.fromConfig({ guidance_scale: params.guidance_scale }) });
    await pipe.loadComponents('controlnet', { repo: CONTROLNET });
    expect(lines).toContain(`unet: using the ONNX export ${join(REAL_ARCH_DIR, 'repo', 'unet', 'model.onnx')}.`);
    const state = await pipe(inputs({ latents: ref('text2img.latents'), output_type: 'latent' }));
    expect(lines.filter((line) => line.startsWith('unet: rebuilt with ControlNet residual inputs for the ControlNet that runs with it, from the diffusers weights beside the ONNX export'))).toHaveLength(1);
    expect(relativeError(state.get('latents').data, ref('text2img.final_latents').data)).toBeLessThan(1e-4);
  });

  it('AUTO_BLOCKS takes the ControlNet branch when control_image is given', async () => {
    const auto = await pipeline(AUTO_BLOCKS);
    await auto.loadComponents('controlnet', { repo: CONTROLNET });
    const state = await auto(inputs({ latents: ref('text2img.latents'), output_type: 'latent' }));
    expect(relativeError(state.get('latents').data, ref('text2img.final_latents').data)).toBeLessThan(1e-4);
  });
});

describe('a ControlNet that does not fit, refused before any model runs', () => {
  it('an SD 1.5 ControlNet next to the SDXL UNet names its config.json and the key', async () => {
    const pipe = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS);
    await pipe.loadComponents('controlnet', { repo: SD15_CONTROLNET });
    const run = pipe(inputs({ latents: ref('text2img.latents'), output_type: 'latent' }));
    await expect(run).rejects.toThrow(ArchitectureMismatchError);
    await expect(run).rejects.toMatchObject({ file: join(SD15_CONTROLNET, 'config.json'), key: 'addition_embed_type' });
    await expect(run).rejects.toThrow(/controlnet-tiny-sd15\/config\.json: 'addition_embed_type' is null but the UNet's \(.*unet\/config\.json\) is "text_time"/);
    // Nothing ran: no session was ever asked for a result.
    expect(pipe.unet.lastRunProvider).toBeNull();
    expect(pipe.controlnet.lastRunProvider).toBeNull();
  });

  it('a missing weight names the safetensors file and the key at load', async () => {
    const folder = join(base, 'controlnet-missing-key');
    await cp(CONTROLNET, folder, { recursive: true });
    await renameSafetensorsKey(join(folder, 'diffusion_pytorch_model.safetensors'), 'controlnet_mid_block.weight', 'controlnet_mid_blocks.weight');
    const pipe = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS);
    await expect(pipe.loadComponents('controlnet', { repo: folder })).rejects.toThrow(
      /Missing weight 'controlnet_mid_block\.weight' in .*controlnet-missing-key\/diffusion_pytorch_model\.safetensors/,
    );
  });

  it('a config the builder does not build names config.json and the key', async () => {
    const folder = join(base, 'controlnet-mid-block-2d');
    await cp(CONTROLNET, folder, { recursive: true });
    const path = join(folder, 'config.json');
    await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), controlnet_conditioning_channel_order: 'gbr' }));
    await expect(buildModel({ folder, cacheDir: join(base, 'built-graphs') })).rejects.toMatchObject({
      file: path,
      key: 'controlnet_conditioning_channel_order',
    });
  });
});

async function renameSafetensorsKey(path: string, from: string, to: string): Promise<void> {
  const bytes = await readFile(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  header[to] = header[from];
  delete header[from];
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await writeFile(path, Buffer.concat([prefix, Buffer.from(text), bytes.subarray(8 + length)]));
}
