/**
 * `loadSingleFile(pipeline, 'sd_xl_base_1.0.safetensors', { config })`:
 * an SDXL checkpoint in the original (LDM/SGM) layout, the one file A1111
 * and ComfyUI users have, loaded into a pipeline as diffusers'
 * `StableDiffusionXLPipeline.from_single_file` loads it:
 *
 * - what the file is comes from its keys (`inferCheckpointModelType`, as
 *   diffusers' `infer_diffusers_model_type`); anything but SDXL is refused,
 *   naming the file and the key that told;
 * - the configs come from `config` (a repo id or folder laid out like a
 *   diffusers repo; default: diffusers' default repo for the type). For
 *   stabilityai/stable-diffusion-xl-base-1.0 the configs are shipped
 *   (sdxl-base-configs.ts), so only its tokenizers are fetched;
 * - the UNet, VAE and both text encoders are built by the model builder
 *   from the file through the LDM key mappings (weights referenced in place,
 *   or converted to float32 once for fp16 files on the CPU; cached), every
 *   one before any session is created, so a missing key, a truncated file
 *   or a config that does not fit fails before any model runs;
 * - the tokenizers (and the scheduler, unless shipped) load from the config
 *   repo through the pipeline's resolver.
 */
import { stat } from 'node:fs/promises';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { InvalidArgumentError, type ModularPipeline } from '@modular-diffusers/core';
import { schedulerRegistry } from '@modular-diffusers/diffusion';
import {
  buildModel,
  inferCheckpointModelType,
  ldmUnetMapping,
  ldmVaeMapping,
  readSafetensorsHeader,
  sgmClipLMapping,
  sgmOpenClipMapping,
  SGM_CLIP_L_PREFIX,
  SGM_OPEN_CLIP_PREFIX,
  SGM_REFINER_OPEN_CLIP_PREFIX,
  type BuiltModel,
  type CheckpointKeyMapping,
  type CheckpointModelType,
  type SafetensorsHeader,
} from '@modular-diffusers/model-builder';
import { loadOnnxModel, type LoadOnnxModelOptions } from '@modular-diffusers/runtime';
import { rememberBuiltModel, type BuiltModelRecipe } from '../components/built-model-recipes.js';
import { AutoencoderKL } from '../components/autoencoder-kl.js';
import { CLIPTextModel, CLIPTextModelWithProjection } from '../components/clip-text-model.js';
import { readJsonConfig } from '../components/read-json-config.js';
import { UNet2DConditionModel } from '../components/unet.js';
import { SDXL_BASE_CONFIGS, SDXL_BASE_REPO } from './sdxl-base-configs.js';
import { SingleFileCheckpointError } from './single-file-checkpoint-error.js';
import { LOAD_SINGLE_FILE_OPTIONS, type LoadSingleFileOptions } from './single-file-options.js';

export type { LoadSingleFileOptions } from './single-file-options.js';

export interface SingleFileLoadReport {
  /** What the checkpoint is, by diffusers' names ('xl_base', 'xl_inpaint', 'xl_refiner'). */
  readonly modelType: CheckpointModelType;
  readonly configRepo: string;
  /** The components set on the pipeline. */
  readonly loaded: readonly string[];
  /** The graph each model component runs, by component name. */
  readonly built: Readonly<Record<string, BuiltModel>>;
}

type ModelName = 'unet' | 'vae' | 'text_encoder' | 'text_encoder_2';
const MODEL_CLASSES: Readonly<Record<ModelName, string>> = {
  unet: 'UNet2DConditionModel',
  vae: 'AutoencoderKL',
  text_encoder: 'CLIPTextModel',
  text_encoder_2: 'CLIPTextModelWithProjection',
};
const SDXL_TYPES: ReadonlySet<CheckpointModelType> = new Set(['xl_base', 'xl_inpaint', 'xl_refiner']);
const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin']);

interface ComponentConfig {
  readonly values: Readonly<Record<string, unknown>>;
  readonly file: string;
  /** The folder it was read from (null for a shipped config). */
  readonly folder: string | null;
}

export async function loadSingleFile(pipeline: ModularPipeline, checkpoint: string, options: LoadSingleFileOptions = {}): Promise<SingleFileLoadReport> {
  if (typeof checkpoint !== 'string' || checkpoint === '') {
    throw new InvalidArgumentError('loadSingleFile(pipeline, checkpoint, options): pass the path of an SDXL .safetensors checkpoint.');
  }
  LOAD_SINGLE_FILE_OPTIONS.check(options);
  options ??= {};
  const file = resolvePath(checkpoint);
  await checkCheckpointFile(file);
  const header = await readSafetensorsHeader(file);
  const kind = inferCheckpointModelType(header);
  if (!SDXL_TYPES.has(kind.type)) throw notSdxl(file, header, kind.type, kind.evidence);
  if (!options.config && kind.type !== 'xl_base') {
    throw new SingleFileCheckpointError(
      `${file} is an SDXL ${kind.type === 'xl_inpaint' ? 'inpainting' : 'refiner'} checkpoint (it has '${kind.evidence}'); only the SDXL base configs are shipped, ` +
        `so pass { config: '${kind.defaultConfigRepo}' } or a local folder with that repo's configs and tokenizers.`,
      file,
      kind.evidence,
    );
  }
  const configRepo = options.config ?? SDXL_BASE_REPO;
  const shipped = configRepo === SDXL_BASE_REPO;
  const hasClipL = [...header.tensors.keys()].some((k) => k.startsWith(SGM_CLIP_L_PREFIX));
  const names = (Object.keys(MODEL_CLASSES) as ModelName[]).filter((n) => pipeline.componentNames.includes(n) && (n !== 'text_encoder' || hasClipL));

  // Configs and graphs first, for every component: nothing runs until all of them built.
  const configs = new Map<ModelName, ComponentConfig>();
  for (const name of names) configs.set(name, await componentConfig(pipeline, name, configRepo, shipped, options));
  const built: Record<string, BuiltModel> = {};
  const device = options.device;
  const buildOptions: Partial<Record<ModelName, BuiltModelRecipe['buildOptions']>> = {};
  for (const name of names) {
    options.signal?.throwIfAborted();
    const config = configs.get(name)!;
    buildOptions[name] = {
      config: { values: config.values, file: config.file },
      checkpoint: { file, mapping: mappingFor(name, config, header, kind.type) },
      keepHalfPrecision: device === 'cuda' || device === 'webgpu',
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    };
    built[name] = await buildModel({ ...buildOptions[name]!, ...(options.signal ? { signal: options.signal } : {}) });
  }

  const loadOptions: LoadOnnxModelOptions = { ...(device ? { device } : {}), ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}) };
  const session = async (name: ModelName, graph = 'model', defer = false) => {
    const opened = { ...loadOptions, ...(defer ? { deferSession: true } : {}) };
    const model = await loadOnnxModel(built[name]!.graphs[graph]!, { ...opened, externalDataFolder: built[name]!.externalDataFolder });
    // Remembered so a LoRA or a ControlNet can rebuild the component (fused weights, residual inputs).
    rememberBuiltModel(model, { buildOptions: buildOptions[name]!, graph, loadOptions: opened, weightShapes: built[name]!.weightShapes });
    return model;
  };
  const folderOf = (name: ModelName) => configs.get(name)!.folder ?? dirname(file);
  const components: Record<string, unknown> = {};
  for (const name of names) {
    const config = configs.get(name)!.values;
    if (name === 'unet') components.unet = new UNet2DConditionModel(await session('unet'), config, folderOf('unet'));
    if (name === 'text_encoder') components.text_encoder = new CLIPTextModel(await session('text_encoder', 'model', true), config, folderOf(name));
    if (name === 'text_encoder_2') components.text_encoder_2 = new CLIPTextModelWithProjection(await session('text_encoder_2', 'model', true), config, folderOf(name));
    if (name === 'vae') {
      const { graphs, externalDataFolder } = built.vae!;
      const half = (graph: 'encoder' | 'decoder') => async () => ({ path: graphs[graph]!, externalDataFolder });
      const vae = new AutoencoderKL(config, { encoder: half('encoder'), decoder: half('decoder'), loadOptions });
      await vae.preloadDecoder();
      components.vae = vae;
    }
  }
  if (pipeline.componentNames.includes('scheduler') && shipped) {
    const declared = pipeline.getComponentSpec('scheduler').type;
    const type = typeof declared === 'string' && schedulerRegistry.names().includes(declared) ? declared : 'EulerDiscreteScheduler';
    components.scheduler = schedulerRegistry.get(type).fromConfig({ ...SDXL_BASE_CONFIGS.scheduler });
  }
  pipeline.updateComponents(components);

  // The tokenizers (and a non-shipped scheduler) are ordinary repo components of the config repo.
  const fromRepo = ['tokenizer', 'tokenizer_2', ...(shipped ? [] : ['scheduler'])].filter(
    (n) => pipeline.componentNames.includes(n) && (n !== 'tokenizer' || hasClipL),
  );
  if (fromRepo.length > 0) {
    await pipeline.loadComponents(fromRepo, {
      repo: configRepo,
      ...(options.revision ? { revision: options.revision } : {}),
      perComponent: Object.fromEntries(fromRepo.map((n) => [n, { subfolder: n }])),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  return { modelType: kind.type, configRepo, loaded: [...Object.keys(components), ...fromRepo], built };
}

async function checkCheckpointFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new SingleFileCheckpointError(`No checkpoint at ${file}; pass the path of an SDXL .safetensors checkpoint.`, file);
  if (!info.isFile()) {
    throw new SingleFileCheckpointError(
      `${file} is a folder; loadSingleFile takes one .safetensors checkpoint (a diffusers-format folder loads with blocks.initPipeline(folder) and loadComponents()).`,
      file,
    );
  }
  if (PICKLE_EXTENSIONS.has(extname(file).toLowerCase())) {
    throw new SingleFileCheckpointError(
      `${file} is a PyTorch pickle checkpoint, which cannot be read safely (it can run code); use the checkpoint's .safetensors release, ` +
        `or convert it to safetensors with diffusers or safetensors' own tools.`,
      file,
    );
  }
}

function notSdxl(file: string, header: SafetensorsHeader, type: CheckpointModelType, evidence: string | null): SingleFileCheckpointError {
  if (type === 'unknown') {
    const diffusersLayout = header.tensors.has('conv_in.weight') || header.tensors.has('time_embedding.linear_1.weight') || header.tensors.has('text_model.embeddings.token_embedding.weight');
    return new SingleFileCheckpointError(
      `${file} is not an original-layout SDXL checkpoint: it has none of the keys that mark one (such as 'conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias' or ` +
        `'model.diffusion_model.input_blocks.0.0.weight').` +
        (diffusersLayout ? ' Its keys are diffusers\' own names: it is one component of a diffusers-format folder; load the folder with loadComponents().' : ''),
      file,
      null,
    );
  }
  const names: Partial<Record<CheckpointModelType, string>> = {
    v1: 'a Stable Diffusion 1.x checkpoint',
    v2: 'a Stable Diffusion 2.x checkpoint',
    inpainting: 'a Stable Diffusion 1.x inpainting checkpoint',
    inpainting_v2: 'a Stable Diffusion 2.x inpainting checkpoint',
    upscale: 'a Stable Diffusion x4 upscaler checkpoint',
    controlnet: 'a ControlNet checkpoint',
    'playground-v2-5': 'a Playground v2.5 checkpoint (SDXL architecture with EDM latents, which this package does not run)',
  };
  return new SingleFileCheckpointError(
    `${file} is ${names[type] ?? `a '${type}' checkpoint`} (it has '${evidence}'), not SDXL; this loader reads SDXL base, inpainting and refiner checkpoints only.`,
    file,
    evidence,
  );
}

async function componentConfig(pipeline: ModularPipeline, name: ModelName, repo: string, shipped: boolean, options: LoadSingleFileOptions): Promise<ComponentConfig> {
  let config: ComponentConfig;
  if (shipped) {
    config = { values: SDXL_BASE_CONFIGS[name], file: `${SDXL_BASE_REPO}/${name}/config.json (shipped with @modular-diffusers/sdxl)`, folder: null };
  } else {
    const resolver = pipeline.resolver;
    if (!resolver) throw new InvalidArgumentError(`loadSingleFile: reading the configs of '${repo}' needs a repo resolver; pass repoResolver to initPipeline or call installHub() from '@modular-diffusers/hub'.`);
    const location = await resolver.resolve(
      { repo, subfolder: name, revision: options.revision ?? null, variant: null },
      options.signal ? { signal: options.signal } : {},
    );
    config = { values: await readJsonConfig(location.path, 'config.json'), file: `${location.path}/config.json`, folder: location.path };
  }
  const declared = typeof config.values._class_name === 'string' ? config.values._class_name : Array.isArray(config.values.architectures) ? config.values.architectures[0] : undefined;
  if (declared !== MODEL_CLASSES[name]) {
    throw new SingleFileCheckpointError(
      `${config.file} describes a ${JSON.stringify(declared ?? null)}, but the checkpoint's ${name} is a ${MODEL_CLASSES[name]}; pass { config } naming the diffusers repo the checkpoint belongs to.`,
      config.file,
      typeof config.values._class_name === 'string' ? '_class_name' : 'architectures',
    );
  }
  return config;
}

function mappingFor(name: ModelName, config: ComponentConfig, header: SafetensorsHeader, type: CheckpointModelType): CheckpointKeyMapping {
  switch (name) {
    case 'unet':
      return ldmUnetMapping(config.values, config.file);
    case 'vae':
      return ldmVaeMapping(config.values, config.file);
    case 'text_encoder':
      return sgmClipLMapping();
    case 'text_encoder_2': {
      const refiner = type === 'xl_refiner' && !header.tensors.has(`${SGM_OPEN_CLIP_PREFIX}positional_embedding`);
      return sgmOpenClipMapping(config.values, config.file, refiner ? SGM_REFINER_OPEN_CLIP_PREFIX : SGM_OPEN_CLIP_PREFIX);
    }
  }
}
