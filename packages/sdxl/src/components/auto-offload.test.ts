import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ComponentLoadError,
  ComponentsManager,
  MemoryBudgetError,
  SequentialPipelineBlocks,
  formatBytes,
  silentLogger,
  type ComponentsManagerEvent,
} from '@modular-diffusers/core';
import { Generator, OnnxModel, type PipelineImage } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { halves } from '../pipeline/image-fixtures.test-helpers.js';
import { IMAGE2IMAGE_BLOCKS, TEXT2IMAGE_BLOCKS } from '../presets.js';

let repo: TinyRepoFixture;
/** Real weight file sizes of the tiny repo (model.onnx plus external data). */
const size: Record<string, number> = {};

beforeAll(async () => {
  repo = await createTinyRepo();
  const bytes = async (...files: string[]) => (await Promise.all(files.map((f) => stat(join(repo.dir, f))))).reduce((s, f) => s + f.size, 0);
  size.text_encoder = await bytes('text_encoder/model.onnx');
  size.text_encoder_2 = await bytes('text_encoder_2/model.onnx');
  size.unet = await bytes('unet/model.onnx', 'unet/model.onnx_data');
  size.vae = await bytes('vae_decoder/model.onnx'); // text-to-image opens the decoder only
});
afterAll(() => repo.dispose());
afterEach(() => vi.restoreAllMocks());

const inputs = () => ({ prompt: 'a red apple', height: 64, width: 64, num_inference_steps: 2, generator: new Generator(7), output: 'images' });

function recordResidency(manager: ComponentsManager): string[] {
  const events: string[] = [];
  manager.on((e: ComponentsManagerEvent) => {
    if (e.type === 'offload' || e.type === 'onload') events.push(`${e.type}:${e.name}`);
  });
  return events;
}

describe('auto offload on the tiny SDXL repo', () => {
  it('runs text-to-image under a budget below the sum of the weights, evicting in the stated order, to the same image', async () => {
    const plain = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS));
    const expected: PipelineImage[] = await plain(inputs());

    const manager = new ComponentsManager(silentLogger);
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS), { componentsManager: manager, collection: 't2i' });
    const sum = size.text_encoder! + size.text_encoder_2! + size.unet! + size.vae!;
    expect(manager.totalSizeBytes()).toBe(sum);
    // Everything but the UNet fits: below the sum, above the largest single component (text_encoder_2).
    const budget = sum - size.unet!;
    expect(budget).toBeGreaterThan(Math.max(...Object.values(size)));
    // The text encoders open their sessions at their first encode; open them now, as a pipeline that has encoded once.
    expect([pipe.text_encoder.isResident, pipe.text_encoder_2.isResident]).toEqual([false, false]);
    await pipe.text_encoder.ensureResident();
    await pipe.text_encoder_2.ensureResident();
    const events = recordResidency(manager);
    await manager.enableAutoOffload({ device: 'cpu', memoryBudget: budget });
    // Shortfall = unet: text_encoder, text_encoder_2 and unet each cover it alone (the VAE does not); unet is the smallest.
    expect(events).toEqual(['offload:unet']);

    const first: PipelineImage[] = await pipe(inputs());
    expect(first[0]!.data).toEqual(expected[0]!.data);
    // Denoise needs the UNet (shortfall = unet again); the text-encoder block is over, so its encoders are
    // candidates: both cover it alone and text_encoder is smaller. The VAE (too small alone) stays.
    expect(events.slice(1)).toEqual(['offload:text_encoder', 'onload:unet']);

    const second: PipelineImage[] = await pipe(inputs());
    expect(second[0]!.data).toEqual(expected[0]!.data);
    // The text-encoder block keeps both encoders, so bringing text_encoder back evicts the UNet; then the reverse.
    expect(events.slice(3)).toEqual(['offload:unet', 'onload:text_encoder', 'offload:text_encoder', 'onload:unet']);
    expect(pipe.unet.model.sessionCreations).toBe(3); // loaded, then back once per run
    expect(pipe.vae.isResident && pipe.text_encoder_2.model.sessionCreations === 1).toBe(true);
    expect(pipe.unet.lastRunProvider).toBe('cpu');

    const lines = manager.summary().split('\n');
    expect(lines[1]).toBe(`Auto offload: device cpu, budget ${formatBytes(budget)}, resident ${formatBytes(budget - size.text_encoder! + size.unet!)}`);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name}_`))!.split('|').map((c) => c.trim());
    expect(row('text_encoder').slice(1, 5)).toEqual(['CLIPTextModel', 'cpu', formatBytes(size.text_encoder!), 'offloaded']);
    expect(row('text_encoder_2').slice(1, 5)).toEqual(['CLIPTextModelWithProjection', 'cpu', formatBytes(size.text_encoder_2!), 'loaded']);
    expect(row('unet').slice(1, 5)).toEqual(['UNet2DConditionModel', 'cpu', formatBytes(size.unet!), 'loaded']);
    expect(row('vae').slice(1, 5)).toEqual(['AutoencoderKL', 'cpu', formatBytes(size.vae!), 'loaded']);
    manager.disableAutoOffload();
  });

  it('shares one set of sessions between a text-to-image and an image-to-image pipeline on one manager', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const manager = new ComponentsManager(silentLogger);
    const t2i = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS), { componentsManager: manager, collection: 't2i' });
    const i2i = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS), { componentsManager: manager, collection: 'i2i' });
    expect(create).toHaveBeenCalledTimes(2); // unet, vae_decoder; the text encoders open at their first encode
    expect(i2i.unet).toBe(t2i.unet);
    expect(manager.searchIds('unet')).toHaveLength(1);
    expect(manager.info(manager.searchIds('unet')[0]!).collections).toEqual(['t2i', 'i2i']);
    await i2i({ ...inputs(), image: halves(64), strength: 0.5 });
    expect(create).toHaveBeenCalledTimes(5); // + both text encoders and the VAE encoder, each opened at its first use, once
  });

  it('counts a VAE half opened mid-run before its session exists', async () => {
    const encoderBytes = (await stat(join(repo.dir, 'vae_encoder', 'model.onnx'))).size;
    const manager = new ComponentsManager(silentLogger);
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(IMAGE2IMAGE_BLOCKS), { componentsManager: manager });
    const loaded = size.text_encoder! + size.text_encoder_2! + size.unet! + size.vae!;
    expect(manager.totalSizeBytes()).toBe(loaded); // the encoder is not opened yet
    const events = recordResidency(manager);
    await manager.enableAutoOffload({ device: 'cpu', memoryBudget: loaded }); // everything loaded fits, the encoder does not
    expect(events).toEqual([]);
    const encoderOpenAtEviction: boolean[] = [];
    manager.on((e) => {
      if (e.type === 'offload') encoderOpenAtEviction.push(pipe.vae.encoderLoaded);
    });
    await pipe({ ...inputs(), image: halves(64), strength: 0.5 });
    expect(encoderOpenAtEviction[0]).toBe(false); // room was made before the encoder's session was created
    // Opening the encoder (shortfall = its size): the image-encoder block keeps the VAE, and unet is the smallest
    // single cover. Denoise brings the UNet back (shortfall = the encoder's size again): the VAE, now both halves,
    // is the smallest single cover. Decode brings the VAE back: the UNet (kept no more) is the smallest cover.
    // Before that the text encoders open at their first encode, inside the budget (nothing is evicted for them).
    expect(events).toEqual(['onload:text_encoder', 'onload:text_encoder_2', 'offload:unet', 'offload:vae', 'onload:unet', 'offload:unet', 'onload:vae']);
    expect(pipe.vae.sizeBytes).toBe(size.vae! + encoderBytes);
    manager.disableAutoOffload();
  });

  it('fails a budget smaller than the largest component before any model runs', async () => {
    // onnxruntime's typings describe a factory; at run time it is the session class, whose prototype has run().
    const sessionClass = ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } };
    const sessionRun = vi.spyOn(sessionClass.prototype, 'run');
    const modelRun = vi.spyOn(OnnxModel.prototype, 'run');
    const tooSmall = size.text_encoder_2! - 1;

    const manager = new ComponentsManager(silentLogger);
    const pipe = await repo.pipeline(SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS), { componentsManager: manager });
    const error = await manager.enableAutoOffload({ memoryBudget: tooSmall }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryBudgetError);
    expect((error as Error).message).toContain(`'text_encoder_2_2' (${formatBytes(size.text_encoder_2!)}`);
    expect([pipe.unet.isResident, pipe.vae.isResident]).toEqual([true, true]); // nothing moved
    expect(pipe.text_encoder_2.isResident).toBe(false); // nor opened: its session waits for its first encode

    // Enabled before loading: the oversized encoder is refused at load time and its session freed.
    const early = new ComponentsManager(silentLogger);
    await early.enableAutoOffload({ memoryBudget: tooSmall });
    const blocked: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(repo.dir, {
      repoResolver: repo.resolver,
      loaderRegistry: repo.registry,
      logger: silentLogger,
      componentsManager: early,
    });
    const loadError = await blocked.loadComponents().catch((e: unknown) => e);
    expect(loadError).toBeInstanceOf(ComponentLoadError);
    expect((loadError as ComponentLoadError).cause).toBeInstanceOf(MemoryBudgetError);
    expect(blocked.text_encoder_2).toBeNull();
    for (const component of Object.values(blocked.components)) await (component as { release?: () => Promise<void> } | null)?.release?.();

    expect(sessionRun).not.toHaveBeenCalled();
    expect(modelRun).not.toHaveBeenCalled();
    // The spies do see runs: the pipeline whose budget was refused still runs unbudgeted.
    manager.disableAutoOffload();
    await pipe({ ...inputs(), num_inference_steps: 1 });
    expect(sessionRun).toHaveBeenCalled();
    expect(modelRun).toHaveBeenCalled();
  });

  it('pins a component to a provider with perComponent and shows the pin', async () => {
    const manager = new ComponentsManager(silentLogger);
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(repo.dir, {
      repoResolver: repo.resolver,
      loaderRegistry: repo.registry,
      logger: silentLogger,
      componentsManager: manager,
    });
    await pipe.loadComponents(null, { device: 'auto', perComponent: { vae: { device: 'cpu' } } });
    const vaeId = manager.idOf(pipe.vae)!;
    expect(manager.info(vaeId)).toMatchObject({ pinnedDevice: 'cpu', device: 'cpu', resident: true });
    expect(manager.summary()).toMatch(/vae_\d+ +\| AutoencoderKL +\| cpu \(pinned cpu\)/);
    // Under a budget on another device the pinned VAE is not counted: a budget of just the largest encoder still works.
    await manager.enableAutoOffload({ device: 'auto', memoryBudget: size.text_encoder_2! });
    expect(await pipe({ ...inputs(), output: 'latents' })).toBeDefined();
    expect(pipe.vae.isResident).toBe(true);
    for (const component of Object.values(pipe.components)) await (component as { release?: () => Promise<void> } | null)?.release?.();
  });
});
