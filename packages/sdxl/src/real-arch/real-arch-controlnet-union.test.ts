/**
 * A ControlNet-Union (ControlNet++) in diffusers' folder format, built by the model builder,
 * against diffusers' own ControlNetUnionModel and StableDiffusionXLControlNetUnionPipeline
 * (packages/sdxl/fixtures/adapters/controlnet/controlnet-union-tiny-sdxl, made by
 * tools/reference/adapter-fixtures/controlnet): the forward with one control image (mode 3) and
 * with two (modes 1 and 3) within 1e-5 of the residuals' magnitude; text2img with `control_mode`
 * through the auto ControlNet input step, one and two images, within 1e-4 on the final latents
 * and 2 levels on the uint8 image, at controlnet_conditioning_scale 0.5; and the SDXL ControlNet
 * component's run (which applies guess mode's weights outside the graph) against diffusers'
 * forward with and without guess mode, one and two images.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { ArchitectureMismatchError, buildModel, readSafetensorsHeader } from '@modular-diffusers/model-builder';
import { Tensor, loadOnnxModel, slice, type RgbImage } from '@modular-diffusers/runtime';
import { CONTROLNET_TEXT2IMAGE_BLOCKS } from '../auto-presets.js';
import { ControlNetModel } from '../components/controlnet.js';
import { StableDiffusionXLControlNetAutoInput } from '../controlnet/controlnet-auto-input.js';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';
import { REAL_ARCH_DIR, maxAbsDiff, relativeError } from './real-arch-fixture.test-helpers.js';

const FIXTURES = join(REAL_ARCH_DIR, '..', 'adapters', 'controlnet');
const UNION = join(FIXTURES, 'controlnet-union-tiny-sdxl');
const OUTPUTS = [...[0, 1, 2, 3, 4, 5].map((i) => `down_block_res_samples_${i}`), 'mid_block_res_sample'];

let base: string;
let diffusersOnly: string;
let refs: Map<string, { shape: readonly number[]; data: Float32Array | Uint8Array }>;
let params: Record<string, any>;
const pipes: Array<{ components: Record<string, unknown> }> = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sdxl-controlnet-union-'));
  diffusersOnly = join(base, 'repo');
  await cp(join(REAL_ARCH_DIR, 'repo'), diffusersOnly, { recursive: true, filter: (src) => !/\.onnx(_data)?$/.test(src) && !/vae_(en|de)coder/.test(src) });
  const path = join(FIXTURES, 'references', 'references.safetensors');
  const header = await readSafetensorsHeader(path);
  const bytes = await readFile(path);
  refs = new Map();
  for (const [name, info] of header.tensors) {
    const copy = new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer;
    refs.set(name, { shape: info.shape, data: info.dtype === 'F32' ? new Float32Array(copy) : new Uint8Array(copy) });
  }
  params = JSON.parse(await readFile(join(FIXTURES, 'references', 'references.json'), 'utf8')).params;
});
afterAll(async () => {
  for (const pipe of pipes) await releaseComponents(pipe);
  await rm(base, { recursive: true, force: true });
});

const ref = (name: string) => {
  const r = refs.get(name);
  if (!r) throw new Error(`no reference ${name}`);
  return new Tensor('float32', r.data as Float32Array, r.shape);
};
const image = (name: string): RgbImage => {
  const r = refs.get(name)!;
  return { height: r.shape[0]!, width: r.shape[1]!, channels: 3, data: r.data as Uint8Array };
};

describe('ControlNetUnionModel built from its diffusers folder', () => {
  it.each([
    ['one control image (mode 3)', 'forward', [3], true],
    ['two control images (modes 1 and 3)', 'forward2', [1, 3], true],
    ['two control images, plain ONNX operators (fusedOps false)', 'forward2', [1, 3], false],
  ] as const)("computes diffusers' residuals with %s (conditioning_scale 0.5, within 1e-5)", async (_title, name, modes, fusedOps) => {
    const built = await buildModel({ folder: UNION, cacheDir: join(base, 'built-graphs'), fusedOps });
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder });
    expect(model.outputNames).toEqual(OUTPUTS);
    const input = (key: string) => ref(`union.forward.input.${key}`);
    const controlType = new Float32Array(2 * params.union.num_control_type);
    for (const row of [0, 1]) for (const mode of modes) controlType[row * params.union.num_control_type + mode] = 1;
    const feeds: Record<string, Tensor> = {
      sample: input('sample'),
      timestep: Tensor.float32([params['forward.timestep']], [1]),
      encoder_hidden_states: input('encoder_hidden_states'),
      text_embeds: input('text_embeds'),
      time_ids: input('time_ids'),
      controlnet_cond: slice(input('controlnet_cond'), 0, modes.length, 1),
      control_type: new Tensor('float32', controlType, [2, params.union.num_control_type]),
      control_type_idx: new Tensor('int64', BigInt64Array.from(modes.map(BigInt)), [modes.length]),
      conditioning_scale: Tensor.float32([params.controlnet_conditioning_scale], [1]),
    };
    const out = await model.run(feeds);
    for (const output of OUTPUTS) {
      const expected = ref(`union.${name}.output.${output}`);
      expect(out[output]!.shape, output).toEqual(expected.shape);
      expect(relativeError(out[output]!.data as Float32Array, expected.data), output).toBeLessThan(1e-5);
    }
    await model.release();
  });
});

describe('text2img with control_mode through the auto ControlNet input step', () => {
  let pipe: any;

  beforeAll(async () => {
    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('controlnet_input', StableDiffusionXLControlNetAutoInput, blocks.indexOf('denoise'));
    blocks.set('denoise', CONTROLNET_TEXT2IMAGE_BLOCKS.get('denoise')!);
    pipe = (SequentialPipelineBlocks.fromBlocksDict(blocks) as any).initPipeline(diffusersOnly, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    pipes.push(pipe);
    await pipe.loadComponents({ onError: 'warn' });
    await pipe.loadComponents('controlnet', { repo: UNION });
    pipe.updateComponents({ guider: ClassifierFreeGuidance.fromConfig({ guidance_scale: params.guidance_scale }) });
  });

  const inputs = (extra: Record<string, unknown>) => ({
    prompt_embeds: ref('text2img.prompt_embeds'),
    negative_prompt_embeds: ref('text2img.negative_prompt_embeds'),
    pooled_prompt_embeds: ref('text2img.pooled_prompt_embeds'),
    negative_pooled_prompt_embeds: ref('text2img.negative_pooled_prompt_embeds'),
    height: params.height,
    width: params.width,
    num_inference_steps: params.num_inference_steps,
    controlnet_conditioning_scale: params.controlnet_conditioning_scale,
    latents: ref('text2img.latents'),
    ...extra,
  });

  it.each([
    ['one image, mode 3', 'text2img', () => ({ control_image: [image('text2img.control_image_uint8')], control_mode: [3] })],
    ['two images, modes 1 and 3', 'text2img2', () => ({ control_image: [image('text2img.control_image_uint8'), image('union.text2img.control_image_2_uint8')], control_mode: [1, 3] })],
  ] as const)('matches StableDiffusionXLControlNetUnionPipeline with %s (latents within 1e-4, uint8 within 2)', async (_title, name, control) => {
    const state = await pipe(inputs({ ...control(), output_type: 'latent' }));
    expect(relativeError(state.get('latents').data, ref(`union.${name}.final_latents`).data)).toBeLessThan(1e-4);
    const [out] = (await pipe(inputs({ ...control(), output: 'images' }))) as RgbImage[];
    expect(maxAbsDiff(out!.data, refs.get(`union.${name}.image_uint8`)!.data)).toBeLessThanOrEqual(2);
    // The mode matters: the same image under another mode gives other latents.
    if (name === 'text2img') {
      const other = await pipe(inputs({ control_image: [image('text2img.control_image_uint8')], control_mode: [1], output_type: 'latent' }));
      expect(relativeError(other.get('latents').data, ref(`union.${name}.final_latents`).data)).toBeGreaterThan(1e-3);
    }
  });

  it.each([
    ['one image', 'forward', [3], false],
    ['two images', 'forward2', [1, 3], false],
    ['one image in guess mode', 'forward_guess', [3], true],
    ['two images in guess mode', 'forward2_guess', [1, 3], true],
  ] as const)("the ControlNet component's run gives diffusers' residuals with %s (within 1e-5)", async (_title, name, modes, guessMode) => {
    const input = (key: string) => ref(`union.forward.input.${key}`);
    const cond = input('controlnet_cond');
    const [rows, , channels, h, w] = cond.shape as [number, number, number, number, number];
    const controlType = new Float32Array(rows * params.union.num_control_type);
    for (let row = 0; row < rows; row++) for (const mode of modes) controlType[row * params.union.num_control_type + mode] = 1;
    const result = await (pipe.controlnet as ControlNetModel).run({
      sample: input('sample'),
      timestep: params['forward.timestep'],
      encoderHiddenStates: input('encoder_hidden_states'),
      textEmbeds: input('text_embeds'),
      timeIds: input('time_ids'),
      controlnetCond: modes.map((_, k) => slice(cond, k, k + 1, 1).reshape([rows, channels, h, w])),
      conditioningScale: params.controlnet_conditioning_scale,
      guessMode,
      controlType: new Tensor('float32', controlType, [rows, params.union.num_control_type]),
      controlTypeIdx: modes,
    });
    [...result.down, result.mid].forEach((residual, k) => {
      const expected = ref(`union.${name}.output.${OUTPUTS[k]}`);
      expect(relativeError(residual.data, expected.data), OUTPUTS[k]).toBeLessThan(1e-5);
    });
  });

  it('refuses a ControlNet made for another architecture before any model runs, with control_mode too', async () => {
    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('controlnet_input', StableDiffusionXLControlNetAutoInput, blocks.indexOf('denoise'));
    blocks.set('denoise', CONTROLNET_TEXT2IMAGE_BLOCKS.get('denoise')!);
    const other: any = (SequentialPipelineBlocks.fromBlocksDict(blocks) as any).initPipeline(diffusersOnly, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    pipes.push(other);
    await other.loadComponents({ onError: 'warn' });
    await other.loadComponents('controlnet', { repo: join(FIXTURES, 'controlnet-tiny-sd15') });
    const run = other(inputs({ control_image: [image('text2img.control_image_uint8')], control_mode: [3], output_type: 'latent' }));
    await expect(run).rejects.toThrow(ArchitectureMismatchError);
    await expect(run).rejects.toMatchObject({ key: 'addition_embed_type' });
    expect(other.unet.lastRunProvider).toBeNull();
  });
});
