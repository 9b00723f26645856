import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../onnx/onnx-model.js';
import { generateTinySdxlRepo, type TinySdxlRepo } from './generate-tiny-sdxl-repo.js';

let base: string;
let repo: TinySdxlRepo;
const options = { controlnet: true, ipAdapter: true, fp16Variant: true } as const;

async function digest(r: TinySdxlRepo): Promise<string> {
  const hash = createHash('sha256');
  for (const file of r.files) hash.update(file).update(await readFile(join(r.dir, file)));
  return hash.digest('hex');
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tiny-sdxl-repo-'));
  repo = await generateTinySdxlRepo(join(base, 'a'), options);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('generateTinySdxlRepo', () => {
  it('lays the repo out like stabilityai/stable-diffusion-xl-base-1.0 with ONNX folders', () => {
    expect(repo.files).toEqual(
      expect.arrayContaining([
        'model_index.json',
        'scheduler/scheduler_config.json',
        'tokenizer/vocab.json',
        'tokenizer/merges.txt',
        'tokenizer_2/special_tokens_map.json',
        'text_encoder/config.json',
        'text_encoder/model.onnx',
        'text_encoder_2/model.onnx',
        'unet/config.json',
        'unet/model.onnx',
        'unet/model.onnx_data',
        'unet/model.fp16.onnx',
        'unet/model.fp16.onnx_data',
        'vae/config.json',
        'vae_encoder/model.onnx',
        'vae_decoder/config.json',
        'vae_decoder/model.onnx',
        'controlnet/model.onnx',
        'unet_controlnet/model.onnx',
        'image_encoder/model.onnx',
        'unet_ip_adapter/model.onnx',
      ]),
    );
  });

  it('writes diffusers configs with the values pipelines read', async () => {
    const json = async (path: string) => JSON.parse(await readFile(join(repo.dir, path), 'utf8'));
    expect(await json('model_index.json')).toMatchObject({
      _class_name: 'StableDiffusionXLPipeline',
      force_zeros_for_empty_prompt: true,
      unet: ['diffusers', 'UNet2DConditionModel'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    });
    expect(await json('scheduler/scheduler_config.json')).toMatchObject({
      _class_name: 'EulerDiscreteScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      timestep_spacing: 'leading',
      steps_offset: 1,
      prediction_type: 'epsilon',
      interpolation_type: 'linear',
      use_karras_sigmas: false,
    });
    const vae = await json('vae_decoder/config.json');
    expect(2 ** (vae.block_out_channels.length - 1)).toBe(8);
    expect(vae).toMatchObject({ scaling_factor: 0.13025, latent_channels: 4 });
    expect(await json('unet/config.json')).toMatchObject({
      in_channels: 4,
      cross_attention_dim: 2048,
      addition_time_embed_dim: 256,
      projection_class_embeddings_input_dim: 2816,
    });
    expect(await json('text_encoder_2/config.json')).toMatchObject({ hidden_size: 1280, projection_dim: 1280, num_hidden_layers: 2 });
    expect(JSON.parse(await readFile(join(repo.dir, 'tokenizer_2/special_tokens_map.json'), 'utf8')).pad_token).toBe('!');
  });

  it('is deterministic: same options, same sha256; another seed, other weights', async () => {
    const again = await generateTinySdxlRepo(join(base, 'b'), options);
    expect(await digest(again)).toBe(await digest(repo));
    const seeded = await generateTinySdxlRepo(join(base, 'c'), { ...options, seed: 1 });
    const unetBytes = (r: TinySdxlRepo) => readFile(join(r.dir, 'unet/model.onnx_data'));
    expect((await unetBytes(seeded)).equals(await unetBytes(repo))).toBe(false);
  });

  // The I/O contract from README.md: Optimum's names, element types and dims (dynamic axes by name).
  const io: Record<string, { inputs: [string, string, (number | string)[]][]; outputs: [string, string, (number | string)[]][] }> = {
    'text_encoder/model.onnx': {
      inputs: [['input_ids', 'int32', ['batch_size', 'sequence_length']]],
      outputs: [
        ['last_hidden_state', 'float32', ['batch_size', 'sequence_length', 768]],
        ['pooler_output', 'float32', ['batch_size', 768]],
        ['hidden_states.0', 'float32', ['batch_size', 'sequence_length', 768]],
        ['hidden_states.1', 'float32', ['batch_size', 'sequence_length', 768]],
        ['hidden_states.2', 'float32', ['batch_size', 'sequence_length', 768]],
      ],
    },
    'text_encoder_2/model.onnx': {
      inputs: [['input_ids', 'int32', ['batch_size', 'sequence_length']]],
      outputs: [
        ['text_embeds', 'float32', ['batch_size', 1280]],
        ['last_hidden_state', 'float32', ['batch_size', 'sequence_length', 1280]],
        ['hidden_states.0', 'float32', ['batch_size', 'sequence_length', 1280]],
        ['hidden_states.1', 'float32', ['batch_size', 'sequence_length', 1280]],
        ['hidden_states.2', 'float32', ['batch_size', 'sequence_length', 1280]],
      ],
    },
    'unet/model.onnx': {
      inputs: [
        ['sample', 'float32', ['batch_size', 4, 'height', 'width']],
        ['timestep', 'float32', ['steps']],
        ['encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', 2048]],
        ['text_embeds', 'float32', ['batch_size', 1280]],
        ['time_ids', 'float32', ['batch_size', 6]],
      ],
      outputs: [['out_sample', 'float32', ['batch_size', 4, 'height', 'width']]],
    },
    'vae_encoder/model.onnx': {
      inputs: [['sample', 'float32', ['batch_size', 3, 'height', 'width']]],
      outputs: [['latent_sample', 'float32', ['batch_size', 4, 'latent_height', 'latent_width']]],
    },
    'vae_decoder/model.onnx': {
      inputs: [['latent_sample', 'float32', ['batch_size', 4, 'latent_height', 'latent_width']]],
      outputs: [['sample', 'float32', ['batch_size', 3, 'height', 'width']]],
    },
    'controlnet/model.onnx': {
      inputs: [
        ['sample', 'float32', ['batch_size', 4, 'height', 'width']],
        ['timestep', 'float32', ['steps']],
        ['encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', 2048]],
        ['controlnet_cond', 'float32', ['batch_size', 3, 'image_height', 'image_width']],
        ['conditioning_scale', 'float32', [1]],
        ['text_embeds', 'float32', ['batch_size', 1280]],
        ['time_ids', 'float32', ['batch_size', 6]],
      ],
      outputs: [
        ['down_block_res_samples_0', 'float32', ['batch_size', 4, 'height', 'width']],
        ['down_block_res_samples_1', 'float32', ['batch_size', 4, 'height_2', 'width_2']],
        ['down_block_res_samples_2', 'float32', ['batch_size', 4, 'height_4', 'width_4']],
        ['mid_block_res_sample', 'float32', ['batch_size', 4, 'height_4', 'width_4']],
      ],
    },
    'image_encoder/model.onnx': {
      inputs: [['pixel_values', 'float32', ['batch_size', 3, 224, 224]]],
      outputs: [
        ['image_embeds', 'float32', ['batch_size', 1024]],
        ['last_hidden_state', 'float32', ['batch_size', 257, 1280]],
      ],
    },
  };

  it.each(Object.entries(io))('%s loads in onnxruntime with the documented I/O', async (file, expected) => {
    const model = await loadOnnxModel(join(repo.dir, file));
    expect(model.inputs.map((i) => [i.name, i.dtype, i.dims])).toEqual(expected.inputs);
    expect(model.outputs.map((o) => [o.name, o.dtype, o.dims])).toEqual(expected.outputs);
    await model.release();
  });

  it('the variant UNets add their documented inputs, and the fp16 UNet is float16 throughout', async () => {
    const names = async (file: string) => {
      const model = await loadOnnxModel(join(repo.dir, file));
      const result = model.inputs.map((i) => `${i.name}:${i.dtype}`);
      await model.release();
      return result;
    };
    expect((await names('unet_controlnet/model.onnx')).slice(5)).toEqual([
      'down_block_additional_residual_0:float32',
      'down_block_additional_residual_1:float32',
      'down_block_additional_residual_2:float32',
      'mid_block_additional_residual:float32',
    ]);
    expect((await names('unet_ip_adapter/model.onnx')).slice(5)).toEqual(['image_embeds:float32', 'ip_adapter_scale:float32']);
    expect(await names('unet/model.fp16.onnx')).toEqual([
      'sample:float16',
      'timestep:float16',
      'encoder_hidden_states:float16',
      'text_embeds:float16',
      'time_ids:float16',
    ]);
  });
});
