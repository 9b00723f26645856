import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ComponentLoaderRegistry,
  ComponentSpec,
  ConfigSpec,
  InputParam,
  OutputParam,
  PipelineBlock,
  SequentialPipelineBlocks,
  registerFamily,
  type BlockResult,
  type PipelineComponents,
  type PipelineState,
} from '@modular-diffusers/core';
import { startHubServer, type HubServer } from '@modular-diffusers/hub-server';

// Shared by the fromPretrained and savePretrained tests: a local Hub with small
// repos, toy blocks registered by name, and fake loaders that read a JSON file
// through `context.resolve()` the way real ONNX loaders read their folder.

export const PIPE = 'org/pipe';
export const TEXT_REPO = 'org/text-repo';
export const UNET_REPO = 'org/unet-repo';
export const PRIVATE_PIPE = 'alice/private-pipe';
export const CODE_REPO = 'org/code-pipe';
export const SDXL_STANDARD = 'org/sdxl-standard';
export const ALICE = 'hf_alice_write';
export const BOB = 'hf_bob';

export const BUNDLE_SOURCE = 'defineBlocks(1, (lib) => ({ CodeBlocks: class CodeBlocks {} }));\n';

/** Encodes the prompt: `scale * prompt.length` (scale from its config.json). */
export class FakeTextEncoder {
  constructor(readonly scale: number) {}
  encode(prompt: string): number {
    return this.scale * prompt.length;
  }
}

/** Adds its `offset` (from its weights file) to the embedding. */
export class FakeUnet {
  constructor(readonly offset: number, readonly files: string[]) {}
  apply(x: number): number {
    return x + this.offset;
  }
}

export class EncodeStep extends PipelineBlock {
  override get description() {
    return 'Encodes the prompt into a number\nSecond line not shown in the card';
  }
  override get expectedComponents() {
    return [new ComponentSpec('text_encoder', 'FakeTextEncoder', { description: 'Turns text into a number' })];
  }
  override get inputs() {
    return [new InputParam('prompt', { required: true, typeHint: 'str', description: 'The prompt' })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('embedding', { typeHint: 'float', description: 'The prompt as a number' })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ prompt: string; embedding?: number }>(state);
    bs.embedding = components.getComponent<FakeTextEncoder>('text_encoder').encode(bs.prompt);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

export class DenoiseStep extends PipelineBlock {
  override get description() {
    return 'Moves the embedding by the unet offset, times a config factor';
  }
  override get expectedComponents() {
    return [new ComponentSpec('unet', 'FakeUnet')];
  }
  override get expectedConfigs() {
    return [new ConfigSpec('factor', 1, 'Multiplies the result')];
  }
  override get inputs() {
    return [new InputParam('num_inference_steps', { default: 50, typeHint: 'int', description: 'Steps' })];
  }
  override get intermediatesInputs() {
    return [new InputParam('embedding', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('result', { typeHint: 'float', description: 'The answer' })];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ embedding: number; result?: number }>(state);
    bs.result = components.getComponent<FakeUnet>('unet').apply(bs.embedding) * Number(components.config.factor);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

/** The toy pipeline's blocks, registered by name so a saved repo can be loaded back without code. */
export class ToyPipeBlocks extends SequentialPipelineBlocks {
  static override blockClasses = [EncodeStep, DenoiseStep];
  static override blockNames = ['encode', 'denoise'];
  override get description() {
    return 'A toy two-step pipeline';
  }
}

/** Standing in for the SDXL default blocks of a standard model_index.json repo. */
export class ToySdxlDefaultBlocks extends SequentialPipelineBlocks {
  static override blockClasses = [EncodeStep, DenoiseStep];
  static override blockNames = ['encode', 'denoise'];
}

// A toy family standing in for SDXL's: its blocks by name, and the default blocks of a standard
// SDXL model_index.json (`StableDiffusionXLPipeline`).
registerFamily({
  name: 'toy-sdxl',
  modelName: 'stable-diffusion-xl',
  pipelineClassNames: ['StableDiffusionXLPipeline', 'StableDiffusionXLModularPipeline'],
  blocksClasses: [ToyPipeBlocks],
  defaultBlocksClass: ToySdxlDefaultBlocks,
});

/** A child registry with the fake loaders; each load records the folder it was given. */
export function fakeLoaders(): ComponentLoaderRegistry & { folders: string[]; options: Record<string, unknown>[] } {
  const registry = new ComponentLoaderRegistry() as ComponentLoaderRegistry & { folders: string[]; options: Record<string, unknown>[] };
  const folders: string[] = [];
  const options: Record<string, unknown>[] = [];
  Object.defineProperty(registry, 'folders', { value: folders });
  Object.defineProperty(registry, 'options', { value: options });
  registry.register({
    type: 'FakeTextEncoder',
    fromPretrained: async (_spec, context) => {
      const where = await context.resolve();
      folders.push(where.path);
      options.push(context.options);
      const config = JSON.parse(await readFile(join(where.path, 'config.json'), 'utf8')) as { scale: number };
      return new FakeTextEncoder(config.scale);
    },
  });
  registry.register({
    type: 'FakeUnet',
    fromPretrained: async (spec, context) => {
      const where = await context.resolve();
      folders.push(where.path);
      const weights = spec.variant ? `weights.${spec.variant}.txt` : 'weights.txt';
      return new FakeUnet(Number(await readFile(join(where.path, weights), 'utf8')), [weights]);
    },
  });
  return registry;
}

export const PIPE_INDEX = {
  _blocks_class_name: 'ToyPipeBlocks',
  _class_name: 'ModularPipeline',
  _diffusers_version: '0.34.0',
  factor: 3,
  text_encoder: [null, null, { pretrained_model_name_or_path: TEXT_REPO, subfolder: 'text_encoder', revision: null, variant: null, type_hint: [null, 'FakeTextEncoder'] }],
  unet: [null, null, { pretrained_model_name_or_path: UNET_REPO, subfolder: 'unet', revision: null, variant: null, type_hint: [null, 'FakeUnet'] }],
};

export interface HubFixture {
  root: string;
  server: HubServer;
  commits: Record<string, string>;
  /** A fresh cache folder and an environment with no HF_* variables and a HOME of its own. */
  fresh(): { cacheDir: string; env: Record<string, string> };
  /** Seeds (or replaces) a repo's main branch with these files; returns the commit. */
  seed(repo: string, files: Record<string, string>, options?: { private?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startHubFixture(): Promise<HubFixture> {
  const root = await mkdtemp(join(tmpdir(), 'hub-pretrained-'));
  const server = await startHubServer({ root: join(root, 'store'), tokens: { [ALICE]: 'alice', [BOB]: 'bob' } });
  let seeded = 0;
  let caches = 0;
  const commits: Record<string, string> = {};
  const seed = async (repo: string, files: Record<string, string>, options: { private?: boolean } = {}) => {
    const dir = join(root, 'src', String(++seeded));
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, ...path.split('/').slice(0, -1)), { recursive: true });
      await writeFile(join(dir, ...path.split('/')), content);
    }
    commits[repo] = (await server.importFolder(repo, dir, options)).commitOid;
    return commits[repo]!;
  };
  await seed(PIPE, { 'modular_model_index.json': JSON.stringify(PIPE_INDEX) });
  await seed(TEXT_REPO, { 'text_encoder/config.json': '{"scale": 2}', 'text_encoder/model.onnx': 'x'.repeat(100), 'other/config.json': '{}' });
  await seed(UNET_REPO, {
    'unet/config.json': '{}',
    'unet/weights.txt': '10',
    'unet/weights.fp16.txt': '20',
    'unet/model.onnx': 'plain',
    'unet/model.fp16.onnx': 'half',
    'unet/model.fp16.onnx_data': 'half data',
    'vae/weights.txt': '99',
  });
  await seed(PRIVATE_PIPE, { 'modular_model_index.json': JSON.stringify(PIPE_INDEX) }, { private: true });
  await seed(CODE_REPO, {
    'modular_config.json': JSON.stringify({ _class_name: 'CodeBlocks', auto_map: { ModularPipelineBlocks: 'block.CodeBlocks' } }),
    'modular_model_index.json': JSON.stringify(PIPE_INDEX),
    'block.js': BUNDLE_SOURCE,
  });
  await seed(SDXL_STANDARD, {
    'model_index.json': JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', _diffusers_version: '0.19.0', text_encoder: ['transformers', 'FakeTextEncoder'], unet: ['diffusers', 'FakeUnet'] }),
    'text_encoder/config.json': '{"scale": 1}',
    'unet/weights.txt': '5',
  });
  return {
    root,
    server,
    commits,
    // Each cache gets its own HOME, so its HF_HOME (listings, the remote-code lock) is its own too.
    fresh: () => {
      const n = ++caches;
      return { cacheDir: join(root, `cache-${n}`), env: { HOME: join(root, `home-${n}`) } };
    },
    seed,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
