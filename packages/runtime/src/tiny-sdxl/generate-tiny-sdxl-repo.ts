/**
 * Writes a tiny, deterministic SDXL repo laid out like
 * stabilityai/stable-diffusion-xl-base-1.0's ONNX export: model_index.json,
 * scheduler/, tokenizer/, tokenizer_2/, text_encoder/, text_encoder_2/,
 * unet/ (weights in model.onnx_data), vae_encoder/, vae_decoder/, vae/config.json,
 * optionally controlnet/ + unet_controlnet/ and image_encoder/ + unet_ip_adapter/.
 * Same options, same bytes. Model I/O is documented in README.md beside this file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { GraphBuilder } from '../onnx/builder/graph-builder.js';
import { writeOnnxModel, type WriteOnnxModelOptions } from '../onnx/builder/write-onnx-model.js';
import { writeTinyClipTokenizerFiles } from '../tokenizer/tiny-vocab.js';
import * as configs from './configs.js';
import { buildTinyControlNet } from './controlnet.js';
import { buildTinyImageEncoder } from './image-encoder.js';
import { SeededRandom } from './seeded-random.js';
import { buildTinyTextEncoder } from './text-encoder.js';
import { buildTinyUnet } from './unet.js';
import { buildTinyVaeDecoder, buildTinyVaeEncoder } from './vae.js';

export interface TinySdxlRepoOptions {
  /** Weight seed (default 0). */
  seed?: number;
  /** Layers per text encoder, i.e. hidden_states.0..N outputs (default 2). */
  textEncoderLayers?: number;
  /** Keep the UNet's weights in unet/model.onnx_data as the real export does (default true). */
  unetExternalData?: boolean;
  /** Also write the fp16 export unet/model.fp16.onnx (float16 I/O and weights). */
  fp16Variant?: boolean;
  /** What vae_encoder outputs (default 'latent_sample'). */
  vaeEncoderOutput?: 'latent_sample' | 'latent_parameters';
  /** Write controlnet/ and unet_controlnet/. */
  controlnet?: boolean;
  /** Write image_encoder/ and unet_ip_adapter/. */
  ipAdapter?: boolean;
  /**
   * The std of the Gaussian every UNet export denoises toward (default 0: all latents are pulled
   * to the prompt's colour). A small value (e.g. 0.1) makes the UNet keep what is nearly clean,
   * so img2img and differential diffusion visibly keep the input image (see unet.ts).
   */
  unetPriorStd?: number;
}

export interface TinySdxlRepo {
  dir: string;
  /** Paths written, relative to dir, sorted. */
  files: string[];
}

export async function generateTinySdxlRepo(dir: string, options: TinySdxlRepoOptions = {}): Promise<TinySdxlRepo> {
  const root = new SeededRandom(options.seed ?? 0);
  const layers = options.textEncoderLayers ?? 2;
  const written: string[] = [];

  const json = async (path: string, value: unknown) => {
    const full = join(dir, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, JSON.stringify(value, null, 2) + '\n');
    written.push(full);
  };
  const model = async (folder: string, graph: GraphBuilder, config: unknown, write: WriteOnnxModelOptions & { file?: string } = {}) => {
    if (config) await json(join(folder, 'config.json'), config);
    written.push(...(await writeOnnxModel(join(dir, folder, write.file ?? 'model.onnx'), graph, write)));
  };

  await json('model_index.json', configs.modelIndex());
  await json('scheduler/scheduler_config.json', configs.schedulerConfig());
  for (const [folder, padToken] of [['tokenizer', '<|endoftext|>'], ['tokenizer_2', '!']] as const) {
    await writeTinyClipTokenizerFiles(join(dir, folder), { padToken });
    for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      written.push(join(dir, folder, file));
    }
  }

  await model(
    'text_encoder',
    buildTinyTextEncoder({ role: 'text_encoder', hiddenSize: 768, layers }, root.fork('text_encoder')),
    configs.textEncoderConfig('text_encoder', layers),
  );
  await model(
    'text_encoder_2',
    buildTinyTextEncoder({ role: 'text_encoder_2', hiddenSize: 1280, projectionDim: 1280, layers }, root.fork('text_encoder_2')),
    configs.textEncoderConfig('text_encoder_2', layers),
  );

  const unetExternal = options.unetExternalData ?? true;
  await model('unet', buildTinyUnet(root.fork('unet'), { priorStd: options.unetPriorStd }), configs.unetConfig(), { externalData: unetExternal });
  if (options.fp16Variant) {
    await model('unet', buildTinyUnet(root.fork('unet'), { precision: 'float16', priorStd: options.unetPriorStd }), undefined, {
      file: 'model.fp16.onnx',
      externalData: unetExternal,
    });
  }

  await json('vae/config.json', configs.vaeConfig());
  await model('vae_encoder', buildTinyVaeEncoder({ output: options.vaeEncoderOutput }), configs.vaeConfig());
  await model('vae_decoder', buildTinyVaeDecoder(), configs.vaeConfig());

  if (options.controlnet) {
    await model('controlnet', buildTinyControlNet(), configs.controlNetConfig());
    // Same weights as unet/: with zero residuals it predicts exactly what unet/ does.
    await model('unet_controlnet', buildTinyUnet(root.fork('unet'), { variant: 'controlnet', priorStd: options.unetPriorStd }), configs.unetConfig());
  }
  if (options.ipAdapter) {
    await model('image_encoder', buildTinyImageEncoder(root.fork('image_encoder')), configs.imageEncoderConfig());
    await model('unet_ip_adapter', buildTinyUnet(root.fork('unet'), { variant: 'ip_adapter', priorStd: options.unetPriorStd }), configs.unetConfig());
  }

  return { dir, files: written.map((path) => relative(dir, path).split('\\').join('/')).sort() };
}
