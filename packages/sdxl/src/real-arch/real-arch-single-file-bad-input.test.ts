/**
 * Bad single-file input: each case fails inside loadSingleFile with an error naming the file and
 * the key (and saying what to do), before any component is set on the pipeline (so before any
 * model runs), and leaves no half-written entry in the built-graph cache.
 */
import { copyFile, cp, mkdtemp, readFile, readdir, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ModelBuildError, SafetensorsFormatError, WeightMismatchError } from '@modular-diffusers/model-builder';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';
import { TEXT2IMAGE_BLOCKS } from '../presets.js';
import { loadSingleFile } from '../single-file/load-single-file.js';
import { SingleFileCheckpointError } from '../single-file/single-file-checkpoint-error.js';
import { REAL_ARCH_REPO } from './real-arch-fixture.test-helpers.js';
import { SINGLE_FILE_CHECKPOINT, SINGLE_FILE_CONFIG_REPO, editedCheckpoint, syntheticCheckpoint } from './single-file-fixture.test-helpers.js';

const MODELS = ['unet', 'vae', 'text_encoder', 'text_encoder_2'];
let cacheDir: string;
const temps: string[] = [];

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'single-file-bad-cache-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

function newPipeline(): any {
  return SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS as never).initPipeline(null, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
    logger: silentLogger,
  });
}

/** The error loadSingleFile throws, after checking nothing was set on the pipeline and the cache has no temp entry. */
async function failure(checkpoint: string, config: string = SINGLE_FILE_CONFIG_REPO): Promise<ModelBuildError> {
  if (dirname(checkpoint) !== dirname(SINGLE_FILE_CHECKPOINT) && dirname(checkpoint) !== join(REAL_ARCH_REPO, 'unet')) temps.push(dirname(checkpoint));
  const pipe = newPipeline();
  const error = await loadSingleFile(pipe, checkpoint, { config, cacheDir }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelBuildError);
  for (const name of MODELS) expect(pipe.getComponent(name), name).toBeNull();
  expect((await readdir(cacheDir)).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  return error as ModelBuildError;
}

async function configRepoCopy(edit: (folder: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'single-file-config-'));
  temps.push(dir);
  await cp(SINGLE_FILE_CONFIG_REPO, dir, { recursive: true });
  await edit(dir);
  return dir;
}

async function editJson(path: string, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(value);
  await writeFile(path, JSON.stringify(value));
}

describe('loadSingleFile refuses bad input before any model runs', () => {
  it('a Stable Diffusion 1.5 checkpoint: names the file and the key that tells', async () => {
    const file = await syntheticCheckpoint({
      'model.diffusion_model.input_blocks.0.0.weight': [320, 4, 3, 3],
      'model.diffusion_model.output_blocks.11.0.skip_connection.weight': [320, 640, 1, 1],
      'cond_stage_model.transformer.text_model.embeddings.position_embedding.weight': [77, 768],
    });
    const error = await failure(file);
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.file).toBe(file);
    expect(error.key).toBe('model.diffusion_model.output_blocks.11.0.skip_connection.weight');
    expect(error.message).toMatch(/is a Stable Diffusion 1\.x checkpoint .*not SDXL/);
  });

  it('a diffusers-format component file instead of a checkpoint', async () => {
    const error = await failure(join(REAL_ARCH_REPO, 'unet', 'diffusion_pytorch_model.safetensors'));
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.message).toMatch(/not an original-layout SDXL checkpoint.*diffusers' own names.*loadComponents/);
  });

  it('an SDXL inpainting checkpoint without a config: says which config to pass', async () => {
    // Only the header's claim changes: conv_in [16, 4, 3, 3] and [16, 9, 2, 2] span the same 1152 fp16 bytes,
    // and a 9-channel conv_in is what marks an inpainting UNet.
    const file = await editedCheckpoint((h) => {
      h['model.diffusion_model.input_blocks.0.0.weight']!.shape = [16, 9, 2, 2];
    });
    temps.push(dirname(file));
    const pipe = newPipeline();
    const error = (await loadSingleFile(pipe, file, { cacheDir }).catch((e: unknown) => e)) as ModelBuildError;
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.file).toBe(file);
    expect(error.key).toBe('model.diffusion_model.input_blocks.0.0.weight');
    expect(error.message).toMatch(/SDXL inpainting checkpoint.*config: 'diffusers\/stable-diffusion-xl-1\.0-inpainting-0\.1'/);
    expect(pipe.getComponent('unet')).toBeNull();
  });

  it('a missing UNet tensor: names the checkpoint key and the diffusers name it stands for', async () => {
    const key = 'model.diffusion_model.input_blocks.1.0.in_layers.0.weight';
    const file = await editedCheckpoint((h) => {
      h['model.diffusion_model.misnamed.weight'] = h[key]!;
      delete h[key];
    });
    const error = await failure(file);
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.file).toBe(file);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(/has no tensor 'model\.diffusion_model\.input_blocks\.1\.0\.in_layers\.0\.weight' \(the UNet's 'down_blocks\.0\.resnets\.0\.norm1\.weight'\)/);
  });

  it("a missing fused q/k/v projection of text encoder 2", async () => {
    const key = 'conditioner.embedders.1.model.transformer.resblocks.3.attn.in_proj_weight';
    const file = await editedCheckpoint((h) => {
      h['conditioner.embedders.1.model.transformer.resblocks.3.attn.qkv'] = h[key]!;
      delete h[key];
    });
    const error = await failure(file);
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(/text encoder 2 \(OpenCLIP-bigG\)'s 'text_model\.encoder\.layers\.3\.self_attn\.q_proj\.weight'/);
  });

  it('a config with fewer layers than the checkpoint: names the tensors it would leave out', async () => {
    const config = await configRepoCopy((dir) => editJson(join(dir, 'text_encoder_2', 'config.json'), (c) => void (c.num_hidden_layers = 9)));
    const error = await failure(SINGLE_FILE_CHECKPOINT, config);
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.file).toBe(SINGLE_FILE_CHECKPOINT);
    expect(error.key).toMatch(/^conditioner\.embedders\.1\.model\.transformer\.resblocks\.9\./);
    // resblock 9's in_proj, out_proj, ln_1, ln_2, c_fc and c_proj, weight and bias each
    expect(error.message).toMatch(/has 12 weight\(s\) the CLIPTextModelWithProjection config does not use/);
  });

  it('a truncated file: names the file and the first tensor past its end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'single-file-'));
    const file = join(dir, 'truncated.safetensors');
    await copyFile(SINGLE_FILE_CHECKPOINT, file);
    await truncate(file, Math.floor((await stat(file)).size / 2));
    const error = await failure(file);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(error.file).toBe(file);
    expect(error.key).not.toBeNull();
    expect(error.message).toMatch(/truncated, download it again/);
  });

  it('a file that is not safetensors at all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'single-file-'));
    const file = join(dir, 'garbage.safetensors');
    await writeFile(file, Buffer.from('{"not": "a checkpoint"} and some more bytes'));
    const error = await failure(file);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(error.file).toBe(file);
  });

  it('a pickle checkpoint is refused without being read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'single-file-'));
    const file = join(dir, 'sd_xl_base_1.0.ckpt');
    await writeFile(file, Buffer.alloc(16));
    const error = await failure(file);
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.message).toMatch(/PyTorch pickle checkpoint.*\.safetensors/);
  });

  it('a config that does not match the checkpoint shapes: names the checkpoint key and both shapes', async () => {
    const config = await configRepoCopy((dir) => editJson(join(dir, 'unet', 'config.json'), (c) => void (c.cross_attention_dim = 72)));
    const error = await failure(SINGLE_FILE_CHECKPOINT, config);
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.file).toBe(SINGLE_FILE_CHECKPOINT);
    expect(error.key).toMatch(/^model\.diffusion_model\.input_blocks\.\d+\.1\.transformer_blocks\.0\.attn2\.to_k\.weight$/);
    expect(error.message).toMatch(/has shape \[32, 64\] but the config needs \[32, 72\]; the config does not match this checkpoint/);
  });

  it("a text encoder config with fewer hidden units than the checkpoint's fused projection", async () => {
    const config = await configRepoCopy((dir) => editJson(join(dir, 'text_encoder_2', 'config.json'), (c) => void (c.hidden_size = 48)));
    const error = await failure(SINGLE_FILE_CHECKPOINT, config);
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.key).toMatch(/^conditioner\.embedders\.1\.model\./);
  });

  it('a config repo whose unet is another class', async () => {
    const config = await configRepoCopy((dir) => editJson(join(dir, 'unet', 'config.json'), (c) => void (c._class_name = 'ControlNetModel')));
    const error = await failure(SINGLE_FILE_CHECKPOINT, config);
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.file).toBe(join(config, 'unet', 'config.json'));
    expect(error.key).toBe('_class_name');
    expect(error.message).toMatch(/describes a "ControlNetModel", but the checkpoint's unet is a UNet2DConditionModel/);
  });

  it('the default (shipped) SDXL base configs do not fit a tiny checkpoint: the UNet shape error comes before anything is fetched', async () => {
    const refusing = {
      resolve: async () => {
        throw new Error('nothing may be fetched before the graphs are built');
      },
    };
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS as never).initPipeline(null, {
      repoResolver: refusing,
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    const error = (await loadSingleFile(pipe, SINGLE_FILE_CHECKPOINT, { cacheDir }).catch((e: unknown) => e)) as ModelBuildError;
    expect(error).toBeInstanceOf(WeightMismatchError);
    expect(error.key).toBe('model.diffusion_model.time_embed.0.weight');
    expect(error.message).toMatch(/shape \[64, 16\] but the config needs \[1280, 320\]/);
    for (const name of MODELS) expect(pipe.getComponent(name), name).toBeNull();
  });

  it('a misspelt option names the declared one', async () => {
    await expect(loadSingleFile(newPipeline(), SINGLE_FILE_CHECKPOINT, { confg: SINGLE_FILE_CONFIG_REPO } as never)).rejects.toThrow(/confg.*config/s);
  });
});

describe('an SDXL refiner checkpoint (OpenCLIP only, as embedder 0)', () => {
  /** The fixture relabelled: CLIP-L's tensors moved out of the layout, OpenCLIP's to embedder 0. */
  const refinerLike = () =>
    editedCheckpoint((h) => {
      for (const key of Object.keys(h)) {
        const moved = key.startsWith('conditioner.embedders.0.transformer.')
          ? `other.${key}`
          : key.startsWith('conditioner.embedders.1.model.')
            ? key.replace('conditioner.embedders.1.model.', 'conditioner.embedders.0.model.')
            : null;
        if (moved) {
          h[moved] = h[key]!;
          delete h[key];
        }
      }
    }, 'refiner.safetensors');

  it('without a config: names the refiner repo to pass', async () => {
    const file = await refinerLike();
    temps.push(dirname(file));
    const error = (await loadSingleFile(newPipeline(), file, { cacheDir }).catch((e: unknown) => e)) as ModelBuildError;
    expect(error).toBeInstanceOf(SingleFileCheckpointError);
    expect(error.key).toBe('conditioner.embedders.0.model.transformer.resblocks.9.mlp.c_proj.bias');
    expect(error.message).toMatch(/SDXL refiner checkpoint.*config: 'stabilityai\/stable-diffusion-xl-refiner-1\.0'/);
  });

  it('with a config: text encoder 2 comes from embedder 0, and there is no text encoder 1 or tokenizer 1', async () => {
    const file = await refinerLike();
    temps.push(dirname(file));
    const pipe = newPipeline();
    const report = await loadSingleFile(pipe, file, { config: SINGLE_FILE_CONFIG_REPO, cacheDir });
    expect(report.modelType).toBe('xl_refiner');
    expect([...report.loaded].sort()).toEqual(['scheduler', 'text_encoder_2', 'tokenizer_2', 'unet', 'vae']);
    expect(pipe.getComponent('text_encoder')).toBeNull();
    expect(report.built.text_encoder_2!.fromCache).toBe(false);
  });
});
