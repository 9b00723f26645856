import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentSpec, MemoryLogger } from '@modular-diffusers/core';
import { Generator, Tensor, type OnnxModel, type OnnxValueInfo } from '@modular-diffusers/runtime';
import { createTinyRepo, type TinyRepoFixture } from '../testing/tiny-repo.js';
import { ControlNetModel } from './controlnet.js';
import { CLIPVisionModelWithProjection } from './image-encoder.js';
import { ModelCapabilityError } from './model-capability-error.js';
import { UNet2DConditionModel } from './unet.js';

/** An OnnxModel stand-in that records its feeds: enough to check what the wrapper sends for a given export signature. */
function recordingModel(inputs: OnnxValueInfo[]): OnnxModel & { feeds: Record<string, Tensor>[] } {
  const feeds: Record<string, Tensor>[] = [];
  return {
    feeds,
    path: '/models/unet/model.onnx',
    sizeBytes: 0,
    inputs,
    outputs: [{ name: 'out_sample', dtype: 'float32', dims: ['batch', 4, 'h', 'w'] }],
    outputNames: ['out_sample'],
    input: (name: string) => inputs.find((i) => i.name === name),
    output: (name: string) => (name === 'out_sample' ? { name, dtype: 'float32', dims: [] } : undefined),
    run: async (f: Record<string, Tensor>) => {
      feeds.push(f);
      return { out_sample: Tensor.zeros('float32', f.sample!.shape) };
    },
  } as unknown as OnnxModel & { feeds: Record<string, Tensor>[] };
}

const SDXL_UNET_INPUTS: OnnxValueInfo[] = [
  { name: 'sample', dtype: 'float16', dims: ['batch', 4, 'height', 'width'] },
  { name: 'timestep', dtype: 'int64', dims: ['steps'] },
  { name: 'encoder_hidden_states', dtype: 'float16', dims: ['batch', 77, 2048] },
  { name: 'text_embeds', dtype: 'float16', dims: ['batch', 1280] },
  { name: 'time_ids', dtype: 'float16', dims: ['batch', 6] },
];
// diffusers' SDXL UNet down path: conv_in, 2 resnets + downsampler, 2 resnets + downsampler, 2 resnets.
const RESIDUAL_CHANNELS = [320, 320, 320, 320, 640, 640, 640, 1280, 1280];
const RESIDUAL_INPUTS: OnnxValueInfo[] = [
  ...RESIDUAL_CHANNELS.map((c, i) => ({ name: `down_block_additional_residual_${i}`, dtype: 'float16', dims: ['batch', c, `h${i}`, `w${i}`] })),
  { name: 'mid_block_additional_residual', dtype: 'float16', dims: ['batch', 1280, 'hm', 'wm'] },
];
const SDXL_CONFIG = { in_channels: 4, block_out_channels: [320, 640, 1280], layers_per_block: 2 };

const call = (rows: number) => ({
  sample: Tensor.zeros('float32', [rows, 4, 16, 16]),
  timestep: 999,
  encoderHiddenStates: Tensor.zeros('float32', [rows, 77, 2048]),
  textEmbeds: Tensor.zeros('float32', [rows, 1280]),
  timeIds: Tensor.zeros('float32', [rows, 6]),
});

describe('UNet2DConditionModel feeds', () => {
  it('feeds one timestep per row in the declared integer type, and reports the export dtype', async () => {
    const model = recordingModel(SDXL_UNET_INPUTS);
    const unet = new UNet2DConditionModel(model, SDXL_CONFIG, '/models/unet');
    await unet.predict(call(2));
    expect(unet.dtype).toBe('float16');
    const timestep = model.feeds[0]!.timestep!;
    expect(timestep.dtype).toBe('int64');
    expect([...(timestep.data as BigInt64Array)]).toEqual([999n, 999n]);
  });

  it('fills ControlNet residuals it is not given with zeros in diffusers\' SDXL layout', async () => {
    const model = recordingModel([...SDXL_UNET_INPUTS, ...RESIDUAL_INPUTS]);
    const unet = new UNet2DConditionModel(model, SDXL_CONFIG, '/models/unet');
    expect(unet.acceptsControlNetResiduals).toBe(true);
    await unet.predict(call(2));
    const feeds = model.feeds[0]!;
    // 16x16 latents: 16 for conv_in and block 0, 8 after the first downsampler, 4 after the second.
    const sizes = [16, 16, 16, 8, 8, 8, 4, 4, 4];
    RESIDUAL_CHANNELS.forEach((c, i) => {
      const residual = feeds[`down_block_additional_residual_${i}`]!;
      expect(residual.shape).toEqual([2, c, sizes[i], sizes[i]]);
      expect(residual.data.every((v) => v === 0)).toBe(true);
    });
    expect(feeds.mid_block_additional_residual!.shape).toEqual([2, 1280, 4, 4]);
  });

  it('refuses residuals and image embeddings an export does not take, naming the export to load', async () => {
    const unet = new UNet2DConditionModel(recordingModel(SDXL_UNET_INPUTS), SDXL_CONFIG, '/models/unet');
    const residual = Tensor.zeros('float32', [1, 4, 16, 16]);
    await expect(unet.predict({ ...call(1), downBlockAdditionalResiduals: [residual], midBlockAdditionalResidual: residual })).rejects.toThrow(
      /unet_controlnet/,
    );
    await expect(unet.predict({ ...call(1), imageEmbeds: Tensor.zeros('float32', [1, 1, 1024]) })).rejects.toThrow(ModelCapabilityError);
    await expect(unet.predict({ ...call(1), textEmbeds: Tensor.zeros('float32', [2, 1280]) })).rejects.toThrow(/batch rows/);
  });

  it('feeds zero image embeddings at scale 0 when an IP-Adapter export gets no image', async () => {
    const model = recordingModel([
      ...SDXL_UNET_INPUTS,
      { name: 'image_embeds', dtype: 'float32', dims: ['batch', 1, 1024] },
      { name: 'ip_adapter_scale', dtype: 'float32', dims: [1] },
    ]);
    const unet = new UNet2DConditionModel(model, SDXL_CONFIG, '/models/unet');
    unet.ipAdapterScale = 0.7;
    await unet.predict(call(3));
    await unet.predict({ ...call(3), imageEmbeds: Tensor.zeros('float32', [3, 1024]) });
    expect(model.feeds[0]!.image_embeds!.shape).toEqual([3, 1, 1024]);
    expect(model.feeds[0]!.ip_adapter_scale!.data[0]).toBe(0);
    expect(model.feeds[1]!.image_embeds!.shape).toEqual([3, 1, 1024]);
    expect(model.feeds[1]!.ip_adapter_scale!.data[0]).toBeCloseTo(0.7, 6);
  });
});

describe('UNet, ControlNet and image encoder loaders on the tiny repo', () => {
  let repo: TinyRepoFixture;
  const loaded: Array<{ release(): Promise<void> }> = [];
  const load = async <T extends { release(): Promise<void> }>(type: string, subfolder: string): Promise<T> => {
    const component = (await new ComponentSpec(subfolder, type, { repo: repo.dir, subfolder }).load({ registry: repo.registry, resolver: repo.resolver })) as T;
    loaded.push(component);
    return component;
  };

  beforeAll(async () => {
    repo = await createTinyRepo({ controlnet: true, ipAdapter: true, fp16Variant: true });
  });
  afterAll(async () => {
    for (const component of loaded) await component.release();
    await repo.dispose();
  });

  it('loads each type with its config, and the residual UNet with zero residuals predicts what the plain UNet does', async () => {
    const unet = await load<UNet2DConditionModel>('UNet2DConditionModel', 'unet');
    const withResiduals = await load<UNet2DConditionModel>('UNet2DConditionModel', 'unet_controlnet');
    expect(unet).toBeInstanceOf(UNet2DConditionModel);
    expect(unet.inChannels).toBe(4);
    expect(unet.acceptsControlNetResiduals).toBe(false);
    expect(withResiduals.downResidualInputs.map((i) => i.name)).toEqual([0, 1, 2].map((i) => `down_block_additional_residual_${i}`));

    const generator = new Generator(11);
    const inputs = {
      sample: generator.randn([2, 4, 8, 8]),
      timestep: 500,
      encoderHiddenStates: generator.randn([2, 77, 2048]),
      textEmbeds: generator.randn([2, 1280]),
      timeIds: Tensor.float32([1024, 1024, 0, 0, 1024, 1024, 64, 64, 0, 0, 64, 64], [2, 6]),
    };
    const [a, b] = await Promise.all([unet.predict(inputs), withResiduals.predict(inputs)]);
    expect(b.data.every((v, k) => Math.abs(v - a.data[k]!) < 1e-6)).toBe(true);

    // The fp16 export (variant 'fp16' -> model.fp16.onnx) takes and returns float16; the wrapper converts.
    const half = (await new ComponentSpec('unet', 'UNet2DConditionModel', { repo: repo.dir, subfolder: 'unet', variant: 'fp16' }).load({
      registry: repo.registry,
      resolver: repo.resolver,
    })) as UNet2DConditionModel;
    loaded.push(half);
    expect(half.dtype).toBe('float16');
    const fromHalf = await half.predict(inputs);
    expect(fromHalf.dtype).toBe('float32');
    expect(fromHalf.data.every((v, k) => Math.abs(v - a.data[k]!) < 2e-2 * (1 + Math.abs(a.data[k]!)))).toBe(true);

    // dtype cannot change an export's precision: asking float16 of the float32 export says how to get the fp16 one.
    const logger = new MemoryLogger();
    const asked = (await new ComponentSpec('unet', 'UNet2DConditionModel', { repo: repo.dir, subfolder: 'unet' }).load({
      registry: repo.registry,
      resolver: repo.resolver,
      logger,
      dtype: 'float16',
    })) as UNet2DConditionModel;
    loaded.push(asked);
    expect(asked.dtype).toBe('float32');
    expect(logger.messages.map((m) => m.message).join('\n')).toMatch(/unet: dtype 'float16' was asked for but this ONNX export computes in float32.*variant: 'fp16'/);

    const controlnet = await load<ControlNetModel>('ControlNetModel', 'controlnet');
    expect(controlnet).toBeInstanceOf(ControlNetModel);
    expect(controlnet.downOutputNames).toHaveLength(3);
    const encoder = await load<CLIPVisionModelWithProjection>('CLIPVisionModelWithProjection', 'image_encoder');
    expect(encoder.imageSize).toBe(224);
    expect((await encoder.encode(Tensor.zeros('float32', [1, 3, 224, 224]))).shape).toEqual([1, 1024]);
  });
});
