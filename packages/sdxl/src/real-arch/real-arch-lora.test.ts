/**
 * LoRA on the real-architecture SDXL fixtures, against diffusers (packages/sdxl/fixtures/adapters/lora,
 * made by tools/reference/adapter-fixtures/lora/make_lora_fixtures.py): a seeded kohya LoRA for the
 * UNet and both text encoders, and the diffusers/PEFT file diffusers' own conversion makes of it.
 * - Both files fused at 0.8 give the same weights, and those of the reference (the formula
 *   W + 0.8 * alpha / r * up @ down in torch, float32): the weights diffusers' pipeline ran with.
 * - text2img from the prompts with the LoRA fused at 0.8 ends on diffusers' StableDiffusionXLPipeline
 *   final latents within 1e-4 of their magnitude and its uint8 image within 2, in both formats.
 * - The LoRA moves the output (far beyond that tolerance); unloading it gives the base output
 *   bit for bit, from the built-graph cache.
 * - Bad input is refused before any model runs, naming the file and the key.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, type Logger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { readSafetensorsHeader } from '@modular-diffusers/model-builder';
import { Tensor } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { SdxlLoraAdapters } from '../lora/lora-adapters.js';
import { LoraLoadError } from '../lora/lora-errors.js';
import { readLoraFile, type LoraComponentName } from '../lora/lora-file.js';
import { fuseLoraLayers } from '../lora/lora-fusion.js';
import { resolveLoraLayers, type LoraTarget } from '../lora/lora-layers.js';
import { loraTargetFromFolder } from '../lora/lora-targets.js';
import { StableDiffusionXLModularPipeline } from '../pipeline/sdxl-modular-pipeline.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { releaseComponents } from '../testing/tiny-repo.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const REPO = join(FIXTURES, 'real-arch', 'repo');
const LORA_DIR = join(FIXTURES, 'adapters', 'lora');
const KOHYA = join(LORA_DIR, 'kohya', 'tiny_lora_kohya.safetensors');
const PEFT_DIR = join(LORA_DIR, 'diffusers');
const PEFT = join(PEFT_DIR, 'pytorch_lora_weights.safetensors');
const PARAMS = { prompt: 'a photo of a red fox in the snow', negative_prompt: 'blurry low quality', num_inference_steps: 4, height: 64, width: 96 };

type Ref = { shape: readonly number[]; data: Float32Array | Uint8Array };
let refs: Map<string, Ref>;
let baseRefs: Map<string, Ref>;
let base: string;
const previousHfHome = process.env.HF_HOME;
const pipes: Array<{ components: Record<string, unknown> }> = [];

async function readRefs(path: string): Promise<Map<string, Ref>> {
  const header = await readSafetensorsHeader(path);
  const bytes = await readFile(path);
  const out = new Map<string, Ref>();
  for (const [name, info] of header.tensors) {
    const copy = new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer;
    out.set(name, { shape: info.shape, data: info.dtype === 'F32' ? new Float32Array(copy) : new Uint8Array(copy) });
  }
  return out;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sdxl-lora-'));
  process.env.HF_HOME = join(base, 'hf-home');
  refs = await readRefs(join(LORA_DIR, 'references.safetensors'));
  baseRefs = await readRefs(join(FIXTURES, 'real-arch', 'references', 'references.safetensors'));
});
afterAll(async () => {
  for (const pipe of pipes) await releaseComponents(pipe);
  if (previousHfHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = previousHfHome;
  await rm(base, { recursive: true, force: true });
});

function tensorRef(map: Map<string, Ref>, name: string): Tensor<'float32'> {
  const r = map.get(name);
  if (!r) throw new Error(`no reference ${name}`);
  return new Tensor('float32', r.data as Float32Array, r.shape);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let magnitude = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    magnitude = Math.max(magnitude, Math.abs(expected[i]!));
  }
  return diff / magnitude;
}

function maxPixelDifference(actual: Uint8Array, expected: Uint8Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  return diff;
}

function logger(lines: string[]): Logger {
  return { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

async function pipeline(options: Record<string, unknown> = { modelSource: 'safetensors' }, log: string[] = [], resolverRoot?: string): Promise<StableDiffusionXLModularPipeline> {
  const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
  const pipe = (SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS) as any).initPipeline(REPO, {
    repoResolver: new LocalFolderRepoResolver(resolverRoot ? { root: resolverRoot } : {}),
    loaderRegistry: registry,
    logger: logger(log),
  }) as StableDiffusionXLModularPipeline;
  expect(pipe).toBeInstanceOf(StableDiffusionXLModularPipeline);
  await pipe.loadComponents(options);
  pipe.updateComponents({ guider: ClassifierFreeGuidance.fromConfig({ guidance_scale: 5 }) });
  pipes.push(pipe as never);
  return pipe;
}

async function run(pipe: StableDiffusionXLModularPipeline): Promise<{ latents: Tensor<'float32'>; image: Uint8Array }> {
  const state = await (pipe as any)({ ...PARAMS, latents: tensorRef(baseRefs, 'text2img_prompt.latents') });
  return { latents: state.get('latents'), image: state.get('images')[0].data };
}

async function targets(): Promise<Record<LoraComponentName, LoraTarget>> {
  const config = async (name: string) => JSON.parse(await readFile(join(REPO, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  return {
    unet: await loraTargetFromFolder(join(REPO, 'unet'), null, await config('unet'), 'the fixture UNet'),
    text_encoder: await loraTargetFromFolder(join(REPO, 'text_encoder'), null, await config('text_encoder'), 'the fixture text_encoder'),
    text_encoder_2: await loraTargetFromFolder(join(REPO, 'text_encoder_2'), null, await config('text_encoder_2'), 'the fixture text_encoder_2'),
  };
}

/** The repo's own weight `key` of `component` as float32. */
async function baseWeight(component: LoraComponentName, key: string): Promise<Float32Array> {
  const file = join(REPO, component, component === 'unet' ? 'diffusion_pytorch_model.safetensors' : 'model.safetensors');
  const header = await readSafetensorsHeader(file);
  const info = header.tensors.get(key)!;
  expect(info.dtype).toBe('F32');
  const bytes = await readFile(file);
  return new Float32Array(new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer);
}

async function fusedWeights(path: string, scale: number): Promise<Map<string, Float32Array>> {
  const resolved = resolveLoraLayers(await readLoraFile(path), await targets());
  const out = new Map<string, Float32Array>();
  for (const layer of resolved.layers) {
    const weight = await baseWeight(layer.component, layer.weightKey);
    out.set(`${layer.component}.${layer.weightKey}`, fuseLoraLayers(weight, layer.weightShape, [{ layer, coefficient: scale, adapterName: 'a', fileSha256: '', filePath: path }]));
  }
  return out;
}

describe('LoRA fused into the built SDXL graphs, against diffusers', () => {
  it('fuses the same weights from the kohya file and from diffusers\' conversion of it, and those diffusers ran with', async () => {
    const kohya = await fusedWeights(KOHYA, 0.8);
    const peft = await fusedWeights(PEFT, 0.8);
    const expected = [...refs.keys()].filter((k) => k.startsWith('fused.')).map((k) => k.slice('fused.'.length)).sort();
    expect([...kohya.keys()].sort()).toEqual(expected);
    expect([...peft.keys()].sort()).toEqual(expected);
    expect(expected.filter((k) => k.startsWith('unet.')).length).toBeGreaterThan(10);
    expect(expected.some((k) => k.startsWith('text_encoder.'))).toBe(true);
    expect(expected.some((k) => k.startsWith('text_encoder_2.'))).toBe(true);
    for (const key of expected) {
      // The two files hold the same numbers under other names: identical fused weights.
      expect(Array.from(peft.get(key)!)).toEqual(Array.from(kohya.get(key)!));
      // torch's float32 arithmetic against our float64 sum rounded once: within float32 rounding.
      expect(relativeError(kohya.get(key)!, refs.get(`fused.${key}`)!.data as Float32Array)).toBeLessThan(1e-6);
    }
  });

  let baseRun: { latents: Tensor<'float32'>; image: Uint8Array } | null = null;

  it.each([
    { format: 'kohya', source: KOHYA, options: {} },
    { format: 'diffusers/PEFT', source: PEFT_DIR, options: { adapterName: 'tiny' } },
  ])('text2img with the $format LoRA fused at 0.8 matches diffusers; unloading gives the base output back from the cache', async ({ source, options }) => {
    const log: string[] = [];
    const pipe = await pipeline({ modelSource: 'safetensors' }, log);
    baseRun ??= await run(pipe);
    expect(relativeError(baseRun.latents.data, baseRefs.get('text2img_prompt.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);

    await pipe.loadLoraWeights(source, options);
    expect(pipe.getActiveAdapters()).toEqual([options.adapterName ?? 'default_0']);
    expect(pipe.getListAdapters()).toEqual({ unet: pipe.getActiveAdapters(), text_encoder: pipe.getActiveAdapters(), text_encoder_2: pipe.getActiveAdapters() });
    await pipe.fuseLora({ loraScale: 0.8 });
    const fused = await run(pipe);
    const latentError = relativeError(fused.latents.data, refs.get('text2img_lora.final_latents')!.data as Float32Array);
    const pixelError = maxPixelDifference(fused.image, refs.get('text2img_lora.image_uint8')!.data as Uint8Array);
    console.info(`LoRA ${source}: latents ${latentError.toExponential(2)} of their magnitude, uint8 ${pixelError}`);
    expect(latentError).toBeLessThan(1e-4);
    expect(pixelError).toBeLessThanOrEqual(2);
    // The LoRA moves the output measurably: far more than the parity tolerance.
    const moved = relativeError(fused.latents.data, baseRun.latents.data);
    console.info(`LoRA moves the final latents by ${moved.toExponential(2)} of their magnitude`);
    expect(moved).toBeGreaterThan(1e-2);

    await pipe.unloadLoraWeights();
    expect(pipe.lora.lastRebuilds.map((r) => [r.component, r.fromCache])).toEqual([['unet', true], ['text_encoder', true], ['text_encoder_2', true]]);
    const again = await run(pipe);
    expect(Array.from(again.latents.data)).toEqual(Array.from(baseRun.latents.data));
    expect(Array.from(again.image)).toEqual(Array.from(baseRun.image));
  });

  it('setAdapters weights change the fused result; unfuseLora changes no number, as in diffusers; disabling or deleting gives the base back', async () => {
    const pipe = await pipeline();
    await pipe.loadLoraWeights(KOHYA, { adapterName: 'k' });
    await pipe.fuseLora({ loraScale: 0.8 });
    expect(pipe.getFusedAdapters()).toEqual({ unet: ['k'], text_encoder: ['k'], text_encoder_2: ['k'] });
    const fused = await run(pipe);
    expect(relativeError(fused.latents.data, refs.get('text2img_lora.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);
    await expect(pipe.fuseLora({ loraScale: 0.8 })).rejects.toThrow(/'k' are already fused into unet; call unfuseLora\(\) first/);
    // diffusers' unfuse_lora unmerges, and the adapter, still at 0.8, applies at run time: the same numbers.
    await pipe.unfuseLora();
    expect(pipe.lora.lastRebuilds).toEqual([]);
    expect(pipe.getFusedAdapters()).toEqual({});
    expect(Array.from((await run(pipe)).latents.data)).toEqual(Array.from(fused.latents.data));
    // set_adapters sets the scale: 0.5 is another result, 0.8 the fused one again (from the cache).
    await pipe.setAdapters('k', 0.5);
    const half = await run(pipe);
    expect(relativeError(half.latents.data, fused.latents.data)).toBeGreaterThan(1e-3);
    await pipe.setAdapters(['k'], [0.8]);
    expect(pipe.lora.lastRebuilds.map((r) => r.fromCache)).toEqual([true, true, true]);
    expect(Array.from((await run(pipe)).latents.data)).toEqual(Array.from(fused.latents.data));
    // Fusing again multiplies, as PEFT's scale_layer does: 1.0 x 0.8 after resetting the weight to 1.
    await pipe.setAdapters('k', 1);
    await pipe.fuseLora({ loraScale: 0.8 });
    expect(Array.from((await run(pipe)).latents.data)).toEqual(Array.from(fused.latents.data));
    await pipe.disableLora();
    const disabled = await run(pipe);
    expect(relativeError(disabled.latents.data, baseRefs.get('text2img_prompt.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);
    await pipe.enableLora();
    expect(Array.from((await run(pipe)).latents.data)).toEqual(Array.from(fused.latents.data));
    await pipe.deleteAdapters('k');
    expect(pipe.getActiveAdapters()).toEqual([]);
    expect(Array.from((await run(pipe)).latents.data)).toEqual(Array.from(disabled.latents.data));
  });

  it('adds up several adapters, takes per-model weights, and resolves a repo id with subfolder and weightName', async () => {
    const root = join(base, 'hub-like');
    await mkdir(join(root, 'org'), { recursive: true });
    await symlink(LORA_DIR, join(root, 'org', 'tiny-lora'));
    const pipe = await pipeline({ modelSource: 'safetensors' }, [], root);
    await pipe.loader.loadLoraWeights('org/tiny-lora', { subfolder: 'kohya', weightName: 'tiny_lora_kohya.safetensors', adapterName: 'a' });
    await pipe.loadLoraWeights('org/tiny-lora', { subfolder: 'diffusers', adapterName: 'b' });
    expect(pipe.getActiveAdapters()).toEqual(['b']);
    // The two files hold the same LoRA: 0.5 of one plus 0.3 of the other is 0.8 of it (up to float rounding).
    await pipe.setAdapters(['a', 'b'], [0.5, 0.3]);
    const sum = await run(pipe);
    expect(relativeError(sum.latents.data, refs.get('text2img_lora.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);
    // UNet only: the text encoders go back to their base graphs and encode as without the LoRA.
    await pipe.setAdapters('a', { unet: 0.8, text_encoder: 0, text_encoder_2: 0 });
    const state = await (pipe as any)({ ...PARAMS, latents: tensorRef(baseRefs, 'text2img_prompt.latents') });
    expect(relativeError(state.get('prompt_embeds').data, baseRefs.get('text2img_prompt.prompt_embeds')!.data as Float32Array)).toBeLessThan(1e-5);
    expect(relativeError(state.get('latents').data, baseRefs.get('text2img_prompt.final_latents')!.data as Float32Array)).toBeGreaterThan(1e-2);
    await pipe.setAdapters([]);
    expect(relativeError((await run(pipe)).latents.data, baseRefs.get('text2img_prompt.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);
  });

  it('fuses into fp16 weights converted to float32 (variant fp16), near the float32 result', async () => {
    const pipe = await pipeline({ modelSource: 'safetensors', variant: 'fp16' });
    await pipe.loadLoraWeights(KOHYA);
    await pipe.fuseLora({ loraScale: 0.8 });
    // fp16-rounded base weights: the tolerance of the fp16 repo test (diffusers-format-repo.test.ts).
    expect(relativeError((await run(pipe)).latents.data, refs.get('text2img_lora.final_latents')!.data as Float32Array)).toBeLessThan(5e-3);
  });

  it('measures what a scale change costs: a new scale rebuilds the three graphs, a scale used before comes from the cache', async () => {
    const pipe = await pipeline();
    await pipe.loadLoraWeights(KOHYA, { adapterName: 'k' });
    const report = (scale: number) =>
      `setAdapters('k', ${scale}): ` + pipe.lora.lastRebuilds.map((r) => `${r.component} ${r.fromCache ? 'cached' : `built ${r.buildMs.toFixed(0)} ms`}, ${r.totalMs.toFixed(0)} ms in all`).join('; ');
    await pipe.setAdapters('k', 0.6);
    console.info(report(0.6));
    expect(pipe.lora.lastRebuilds.map((r) => [r.component, r.fromCache])).toEqual([['unet', false], ['text_encoder', false], ['text_encoder_2', false]]);
    await pipe.setAdapters('k', 0.7);
    await pipe.setAdapters('k', 0.6);
    console.info(report(0.6));
    expect(pipe.lora.lastRebuilds.map((r) => [r.component, r.fromCache])).toEqual([['unet', true], ['text_encoder', true], ['text_encoder_2', true]]);
    // The same state again changes nothing: no rebuild at all.
    await pipe.setAdapters('k', 0.6);
    expect(pipe.lora.lastRebuilds).toEqual([]);
  });
});

describe('bad LoRA input is refused before any model runs', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = join(base, 'bad');
    await mkdir(scratch, { recursive: true });
  });

  it('components running ONNX exports: says to load them from safetensors', async () => {
    const pipe = await pipeline({});
    const error = await pipe.loadLoraWeights(KOHYA).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoraLoadError);
    expect((error as Error).message).toMatch(/unet runs the ONNX export .*model\.onnx.*modelSource: 'safetensors'/);
    expect(pipe.getActiveAdapters()).toEqual([]);
  });

  it('a LoRA for another architecture (a module the UNet lacks; shapes that do not fit), naming file and key, with nothing rebuilt', async () => {
    const pipe = await pipeline();
    const unet = pipe.getComponent<{ model: unknown }>('unet');
    const model = unet.model;
    // An SDXL-base-sized LoRA key the tiny UNet lacks: down_blocks.2 does not exist here.
    const foreign = join(scratch, 'foreign.safetensors');
    await writeFile(foreign, await renamedKohya('lora_unet_input_blocks_4_1_proj_in', 'lora_unet_input_blocks_7_1_proj_in'));
    const error = await pipe.loadLoraWeights(foreign).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoraLoadError);
    expect((error as LoraLoadError).file).toBe(foreign);
    expect((error as LoraLoadError).key).toMatch(/^lora_unet_input_blocks_7_1_proj_in\./);
    expect((error as Error).message).toMatch(/which the unet from .* does not have; the LoRA was made for another model architecture/);
    // Same module name, other shapes: attn2's to_k of an SDXL-base UNet takes 2048 features, not 64.
    const shapes = join(scratch, 'shapes.safetensors');
    await writeFile(shapes, await renamedKohya('lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k', 'lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k', true));
    const shapeError = await pipe.loadLoraWeights(shapes).catch((e: unknown) => e);
    expect(shapeError).toBeInstanceOf(LoraLoadError);
    expect((shapeError as Error).message).toMatch(/has shape .* which does not fit 'down_blocks\.1\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k'/);
    expect(unet.model).toBe(model);
    expect(pipe.getActiveAdapters()).toEqual([]);
  });

  it('a missing up matrix, and a .bin file', async () => {
    const pipe = await pipeline();
    const half = join(scratch, 'half.safetensors');
    await writeFile(half, await droppedKey(KOHYA, 'lora_te2_text_model_encoder_layers_2_mlp_fc1.lora_up.weight'));
    const error = await pipe.loadLoraWeights(half).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoraLoadError);
    expect((error as LoraLoadError).key).toBe('lora_te2_text_model_encoder_layers_2_mlp_fc1.lora_down.weight');
    const binDir = join(scratch, 'bin-only');
    await mkdir(binDir, { recursive: true });
    await copyFile(KOHYA, join(binDir, 'pytorch_lora_weights.bin'));
    await expect(pipe.loadLoraWeights(binDir)).rejects.toThrow(/pytorch_lora_weights\.bin is a PyTorch pickle; LoRA weights load from safetensors only/);
    await expect(pipe.loadLoraWeights(PEFT_DIR, { weightName: 'pytorch_lora_weights.bin' })).rejects.toThrow(/is a PyTorch pickle/);
    expect(pipe.getActiveAdapters()).toEqual([]);
  });

  it('safeFusing refuses non-finite fused weights, naming the file and the key, and the pipeline recovers', async () => {
    const pipe = await pipeline();
    const broken = join(scratch, 'broken.safetensors');
    const target = 'lora_unet_input_blocks_4_1_proj_in.lora_up.weight';
    await writeFile(broken, await rewriteSafetensors(KOHYA, (key, shape, data) => (key === target ? { key, shape, data: new Float32Array(data.length).fill(Infinity) } : { key, shape, data })));
    await pipe.loadLoraWeights(broken, { adapterName: 'broken' });
    const error = await pipe.fuseLora({ loraScale: 0.8, safeFusing: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoraLoadError);
    expect((error as LoraLoadError).file).toBe(broken);
    expect((error as Error).message).toMatch(/Fusing adapter\(s\) 'broken' into 'down_blocks\.1\.attentions\.0\.proj_in\.weight' gives non-finite weights/);
    expect(pipe.getActiveAdapters()).toEqual(['broken']);
    await pipe.unloadLoraWeights();
    expect(relativeError((await run(pipe)).latents.data, baseRefs.get('text2img_prompt.final_latents')!.data as Float32Array)).toBeLessThan(1e-4);
  });

  it('an unknown option and an unknown adapter', async () => {
    const pipe = await pipeline();
    await expect(pipe.loadLoraWeights(KOHYA, { weight_name: 'x' } as never)).rejects.toThrow(/unknown option 'weight_name'. Did you mean 'weightName'/);
    await expect(pipe.setAdapters('nope')).rejects.toThrow(/no adapter 'nope' is loaded/);
    expect(new SdxlLoraAdapters({ pipeline: pipe, logger: logger([]), resolveRepo: () => Promise.reject(new Error('unused')) }).getActiveAdapters()).toEqual([]);
  });
});

/** The kohya fixture with one module's keys renamed (and, with `otherShape`, its down matrix given SDXL-base's 2048 in_features). */
async function renamedKohya(from: string, to: string, otherShape = false): Promise<Buffer> {
  return rewriteSafetensors(KOHYA, (key, shape, data) => {
    if (!key.startsWith(`${from}.`)) return { key, shape, data };
    const renamed = `${to}${key.slice(from.length)}`;
    if (otherShape && key.endsWith('lora_down.weight')) return { key: renamed, shape: [shape[0]!, 2048], data: new Float32Array(shape[0]! * 2048) };
    return { key: renamed, shape, data };
  });
}

async function droppedKey(path: string, drop: string): Promise<Buffer> {
  return rewriteSafetensors(path, (key, shape, data) => (key === drop ? null : { key, shape, data }));
}

async function rewriteSafetensors(
  path: string,
  edit: (key: string, shape: readonly number[], data: Float32Array) => { key: string; shape: readonly number[]; data: Float32Array } | null,
): Promise<Buffer> {
  const header = await readSafetensorsHeader(path);
  const bytes = await readFile(path);
  const entries: Array<{ key: string; shape: readonly number[]; data: Float32Array }> = [];
  for (const [key, info] of header.tensors) {
    const data = new Float32Array(new Uint8Array(bytes.subarray(info.fileOffset, info.fileOffset + info.byteLength)).buffer);
    const edited = edit(key, info.shape, data);
    if (edited) entries.push(edited);
  }
  const json: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    json[e.key] = { dtype: 'F32', shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  const text = Buffer.from(JSON.stringify(json));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([prefix, text, ...entries.map((e) => Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength))]);
}
