/**
 * What the adapters cost on the real-architecture fixture, every model built from its safetensors:
 * a LoRA's first fuse (the three graphs rebuilt with the adapted tensors embedded), a new adapter
 * weight (rebuilt again), a weight used before (graphs from the built-graph cache), the same state
 * (nothing); an IP-Adapter load (UNet rebuilt with the adapter, image encoder built) and a scale
 * change (a graph input: no rebuild); a ControlNet's first step (the UNet rebuilt with residual
 * inputs). Each in a fresh built-graph cache, so "cold" means built here.
 * Run directly:
 *   node --conditions=source --import tsx packages/sdxl/bench/adapters.ts
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ComponentLoaderRegistry, SequentialPipelineBlocks, silentLogger } from '@modular-diffusers/core';
import { ClassifierFreeGuidance } from '@modular-diffusers/diffusion';
import { Tensor } from '@modular-diffusers/runtime';
import { CONTROLNET_TEXT2IMAGE_BLOCKS, IP_ADAPTER_BLOCKS, LocalFolderRepoResolver, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';
import { releaseComponents } from '../src/testing/tiny-repo.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const KOHYA = join(FIXTURES, 'adapters', 'lora', 'kohya', 'tiny_lora_kohya.safetensors');
const IP_REPO = join(FIXTURES, 'adapters', 'ip-adapter', 'repo');
const CONTROLNET = join(FIXTURES, 'adapters', 'controlnet', 'controlnet-tiny-sdxl');

export interface AdapterBenchRow {
  name: string;
  shape?: string;
  ms?: number;
  note?: string;
}

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function benchAdapters(): Promise<AdapterBenchRow[]> {
  const temp = await mkdtemp(join(tmpdir(), 'bench-adapters-'));
  const previousHome = process.env.HF_HOME;
  process.env.HF_HOME = join(temp, 'hf-home');
  const repo = join(temp, 'repo');
  await cp(join(FIXTURES, 'real-arch', 'repo'), repo, { recursive: true, filter: (src) => !/\.onnx(_data)?$/.test(src) && !/vae_(en|de)coder/.test(src) });
  const opened: Array<{ components: Record<string, unknown> }> = [];
  const pipeline = async (blocks: unknown): Promise<any> => {
    const pipe: any = SequentialPipelineBlocks.fromBlocksDict(blocks as never).initPipeline(repo, {
      repoResolver: new LocalFolderRepoResolver(),
      loaderRegistry: registerSdxlComponentLoaders(new ComponentLoaderRegistry()),
      logger: silentLogger,
    });
    await pipe.loadComponents({ onError: 'warn' });
    pipe.updateComponents({ guider: new ClassifierFreeGuidance({ guidance_scale: 5 }) });
    opened.push(pipe);
    return pipe;
  };
  const rows: AdapterBenchRow[] = [];
  try {
    const lora = await pipeline(TEXT2IMAGE_BLOCKS);
    rows.push({ name: 'LoRA: loadLoraWeights (kohya file, first fuse: 3 graphs built)', ms: await timed(() => lora.loadLoraWeights(KOHYA, { adapterName: 'tiny' })), note: 'UNet + both text encoders' });
    rows.push({ name: 'LoRA: setAdapters with a new weight (rebuilt)', ms: await timed(() => lora.setAdapters(['tiny'], [0.8])) });
    rows.push({ name: 'LoRA: back to a weight used before (built-graph cache)', ms: await timed(() => lora.setAdapters(['tiny'], [1])) });
    rows.push({ name: 'LoRA: the same state again', ms: await timed(() => lora.setAdapters(['tiny'], [1])), note: 'nothing to do' });
    rows.push({ name: 'LoRA: unloadLoraWeights (base graphs from the cache)', ms: await timed(() => lora.unloadLoraWeights()) });

    const blocks = TEXT2IMAGE_BLOCKS.copy();
    blocks.insert('ip_adapter', IP_ADAPTER_BLOCKS.get('ip_adapter')!, 0);
    const ip = await pipeline(blocks);
    rows.push({
      name: 'IP-Adapter: loadIpAdapter (UNet rebuilt with the adapter, image encoder built)',
      ms: await timed(() => ip.loader.loadIpAdapter(IP_REPO, { subfolder: 'sdxl_models', weightName: 'ip-adapter_sdxl.safetensors' })),
    });
    rows.push({ name: 'IP-Adapter: setIpAdapterScale(0.6)', ms: await timed(() => ip.loader.setIpAdapterScale(0.6)), note: 'a graph input: no rebuild' });

    const control = await pipeline(CONTROLNET_TEXT2IMAGE_BLOCKS);
    rows.push({ name: "ControlNet: loadComponents('controlnet', { repo }) (built)", ms: await timed(() => control.loadComponents('controlnet', { repo: CONTROLNET })) });
    const image = { height: 64, width: 96, channels: 3 as const, data: new Uint8Array(64 * 96 * 3).fill(128) };
    const embeds = {
      prompt_embeds: Tensor.zeros('float32', [1, 77, 64]),
      pooled_prompt_embeds: Tensor.zeros('float32', [1, 32]),
      negative_prompt_embeds: Tensor.zeros('float32', [1, 77, 64]),
      negative_pooled_prompt_embeds: Tensor.zeros('float32', [1, 32]),
    };
    const run = () => control({ ...embeds, control_image: image, height: 64, width: 96, num_inference_steps: 1, output_type: 'latent' });
    const first = await timed(run);
    const second = await timed(run);
    rows.push({ name: 'ControlNet: first 1-step run (UNet rebuilt with residual inputs)', shape: '64x96', ms: first });
    rows.push({ name: 'ControlNet: the same run again', shape: '64x96', ms: second, note: `the rebuild costs about ${Math.max(0, first - second).toFixed(0)} ms` });
  } finally {
    for (const pipe of opened) await releaseComponents(pipe);
    if (previousHome === undefined) delete process.env.HF_HOME;
    else process.env.HF_HOME = previousHome;
    await rm(temp, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchAdapters()) console.log(`${row.name}: ${row.ms?.toFixed(1)} ms${row.note ? ` (${row.note})` : ''}`);
}
