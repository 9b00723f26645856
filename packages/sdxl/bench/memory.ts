/**
 * Peak resident memory of a tiny-repo text-to-image run, each measured in a
 * fresh child process (`process.resourceUsage().maxRSS` at the end), next to
 * the sum of the repo's weight files:
 *  - 'baseline': the same child, modules imported and the repo read, no model loaded;
 *  - 'text2img': load every component, run;
 *  - 'text2img + budget': auto offload enabled before loading with a budget of
 *    the largest component, so at most one model's session lives at a time.
 * The tiny models weigh megabytes, so read the rows above the baseline; the
 * real SDXL (about 7 GB of weights) is what the budget is for.
 * Run directly: node --conditions=source --import tsx packages/sdxl/bench/memory.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ComponentLoaderRegistry, ComponentsManager, SequentialPipelineBlocks, formatBytes, silentLogger } from '@modular-diffusers/core';
import { Generator, generateTinySdxlRepo } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver, TEXT2IMAGE_BLOCKS, registerSdxlComponentLoaders } from '../src/index.js';

export interface MemoryBenchRow {
  name: string;
  shape?: string;
  value?: string;
  note?: string;
}

type Mode = 'baseline' | 'text2img' | 'budget';

interface ChildResult {
  maxRssBytes: number;
  offloads: number;
  budgetBytes: number | null;
}

const SIZE = 512;
const STEPS = 4;
const TEXT_ENCODER_LAYERS = 16;

export async function benchMemory(): Promise<MemoryBenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-memory-'));
  try {
    const repo = join(dir, 'repo');
    // Deeper text encoders than the test repo's, so the weights, not the runtime, dominate what is measured.
    await generateTinySdxlRepo(repo, { textEncoderLayers: TEXT_ENCODER_LAYERS });
    const weights = await weightFiles(repo);
    const used = weights.filter((w) => !w.path.startsWith('vae_encoder') && !w.path.includes('controlnet') && !w.path.includes('ip_adapter') && !w.path.startsWith('image_encoder'));
    const sum = used.reduce((s, w) => s + w.bytes, 0);
    const shape = `${SIZE}x${SIZE}, ${STEPS} steps`;
    const baseline = measure('baseline', repo);
    const plain = measure('text2img', repo);
    const budgeted = measure('budget', repo);
    const above = (r: ChildResult) => `${formatBytes(r.maxRssBytes)} (+${formatBytes(r.maxRssBytes - baseline.maxRssBytes)} over baseline)`;
    return [
      { name: 'sdxl text2img weights used (sum of files)', shape, value: formatBytes(sum), note: used.map((w) => `${w.path} ${formatBytes(w.bytes)}`).join(', ') },
      { name: 'peak RSS: baseline (imports, no model)', shape, value: formatBytes(baseline.maxRssBytes), note: 'child process, process.resourceUsage().maxRSS' },
      { name: 'peak RSS: text2img', shape, value: above(plain), note: 'every session loaded at once' },
      {
        name: 'peak RSS: text2img under a memory budget',
        shape,
        value: above(budgeted),
        note: `budget ${formatBytes(budgeted.budgetBytes)} (largest component), ${budgeted.offloads} offloads`,
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function measure(mode: Mode, repo: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', self, '--child', mode, repo], { encoding: 'utf8' });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || !line) throw new Error(`The ${mode} memory child failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
  return JSON.parse(line) as ChildResult;
}

async function weightFiles(repo: string): Promise<Array<{ path: string; bytes: number }>> {
  const out: Array<{ path: string; bytes: number }> = [];
  for (const folder of await readdir(repo)) {
    const files = await readdir(join(repo, folder)).catch(() => [] as string[]);
    for (const file of files) {
      if (/\.onnx(_data)?$/.test(file) || file.endsWith('.onnx.data')) out.push({ path: `${folder}/${file}`, bytes: (await stat(join(repo, folder, file))).size });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function child(mode: Mode, repo: string): Promise<ChildResult> {
  const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
  const manager = new ComponentsManager(silentLogger);
  let offloads = 0;
  manager.on((e) => {
    if (e.type === 'offload') offloads += 1;
  });
  const pipe = SequentialPipelineBlocks.fromBlocksDict(TEXT2IMAGE_BLOCKS).initPipeline(repo, {
    repoResolver: new LocalFolderRepoResolver(),
    loaderRegistry: registry,
    logger: silentLogger,
    componentsManager: manager,
  });
  let budgetBytes: number | null = null;
  if (mode === 'budget') {
    // The largest weight file among the text-to-image components: each fits alone, no two of the big ones together.
    const sizes = await Promise.all(['text_encoder', 'text_encoder_2', 'unet'].map((f) => weightFiles(repo).then((w) => w.filter((x) => x.path.startsWith(`${f}/`)).reduce((s, x) => s + x.bytes, 0))));
    budgetBytes = Math.max(...sizes);
    await manager.enableAutoOffload({ device: 'cpu', memoryBudget: budgetBytes });
  }
  if (mode !== 'baseline') {
    await pipe.loadComponents();
    await pipe({ prompt: 'a red apple', height: SIZE, width: SIZE, num_inference_steps: STEPS, generator: new Generator(0), output: 'images' });
  }
  return { maxRssBytes: process.resourceUsage().maxRSS * 1024, offloads, budgetBytes };
}

const argv = process.argv;
if (argv[2] === '--child') {
  console.log(JSON.stringify(await child(argv[3] as Mode, argv[4]!)));
} else if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  for (const row of await benchMemory()) console.log(`${row.name.padEnd(44)} ${(row.value ?? '').padEnd(40)} ${row.shape ?? ''}  ${row.note ?? ''}`);
}
