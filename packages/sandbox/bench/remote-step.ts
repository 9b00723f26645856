/**
 * What running a plugin's blocks in the sandbox costs per denoise step: plugins/diffdiff
 * (differential diffusion, the developer guide's worked example; its DIFFDIFF_BLOCKS preset) on the tiny SDXL repo, run
 * in the sandbox as a trusted remote pipeline and, with the same components and inputs, as
 * the same blocks on the host. Every UNet, VAE and text-encoder call of the remote run
 * crosses the sandbox boundary (latents and embeddings out, results back).
 *
 * A run's fixed costs (encoding the prompt, decoding, the boundary crossings of setup) are
 * taken out by timing two step counts: per-step overhead = ((remote - local) at `long`
 * steps - (remote - local) at `short` steps) / (long - short), per round, median over
 * rounds. Runs go in turns (remote first on even rounds) so a slow moment of the machine
 * weighs on both. Both runs must give the same pixels; the bench checks that first.
 *
 * Run with `npm run bench -- remote-step` or
 *   node --conditions=source --import tsx packages/sandbox/bench/remote-step.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SequentialPipelineBlocks, silentLogger, type ModularPipeline } from '@modular-diffusers/core';
import { Generator, generateTinySdxlRepo, type RgbImage } from '@modular-diffusers/runtime';
import { loadRemoteBlocks, type RemoteModularPipeline } from '../src/index.js';
import { bundlePlugin } from '../src/remote/remote-test-kit.test-helpers.js';

export interface RemoteStepRow {
  name: string;
  shape?: string;
  ms?: number;
  value?: string;
  note?: string;
}

const PLUGIN_ENTRY = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'plugins', 'diffdiff', 'src', 'plugin.ts');

const COMPONENTS = ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae', 'scheduler'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function picture(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) data.set([200, 40 + (p % size) / 4, 40], p * 3);
  return { width: size, height: size, channels: 3, data };
}

function halfMap(size: number): RgbImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = x < size / 2 ? 0 : 255;
  return { width: size, height: size, channels: 1, data };
}

export async function benchRemoteStep(options: { size?: number; short?: number; long?: number; rounds?: number } = {}): Promise<RemoteStepRow[]> {
  const size = options.size ?? 512;
  const short = options.short ?? 2;
  const long = options.long ?? 10;
  const rounds = options.rounds ?? 7;
  const dir = await mkdtemp(join(tmpdir(), 'bench-remote-step-'));
  let remote: RemoteModularPipeline | null = null;
  try {
    const repo = join(dir, 'tiny-sdxl');
    await generateTinySdxlRepo(repo, { unetPriorStd: 0.5 });
    const source = await bundlePlugin(`import * as plugin from ${JSON.stringify(PLUGIN_ENTRY)};\ndefineBlocks(1, () => ({ ...plugin }));\n`);
    const blocks = await loadRemoteBlocks(
      { source, filename: 'hf://bench/diffdiff@local/diffdiff.js', exportName: 'DIFFDIFF_BLOCKS', repo: 'bench/diffdiff', commit: null },
      { libraries: { cacheDir: join(dir, 'sandbox-libraries') }, logger: silentLogger },
    );
    remote = blocks.initPipeline(repo, { logger: silentLogger });
    await remote.loadComponents(COMPONENTS);
    const { DIFFDIFF_BLOCKS } = (await import(pathToFileURL(PLUGIN_ENTRY).href)) as { DIFFDIFF_BLOCKS: Parameters<typeof SequentialPipelineBlocks.fromBlocksDict>[0] };
    const local = SequentialPipelineBlocks.fromBlocksDict(DIFFDIFF_BLOCKS).initPipeline(repo, { logger: silentLogger });
    // The same component objects on both sides: only where the blocks run differs.
    local.updateComponents(remote.components);

    const inputs = { prompt: 'a green pear', negative_prompt: 'blurry', image: picture(size), diffdiff_map: halfMap(size), height: size, width: size };
    const run = async (pipe: ModularPipeline, steps: number): Promise<[number, Uint8Array]> => {
      const t0 = performance.now();
      const images = (await pipe.run({ ...inputs, num_inference_steps: steps, generator: new Generator(7), output: 'images' })) as RgbImage[];
      return [performance.now() - t0, images[0]!.data];
    };

    const [, remotePixels] = await run(remote, short);
    const [, localPixels] = await run(local, short);
    if (!Buffer.from(remotePixels).equals(Buffer.from(localPixels))) {
      throw new Error('The sandboxed diff-diff run no longer gives the host run\'s pixels; the comparison would not be fair.');
    }
    for (const steps of [short, long]) {
      await run(remote, steps);
      await run(local, steps);
    }

    const perStep: number[] = [];
    const fixed: number[] = [];
    const remoteLong: number[] = [];
    const localLong: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const pair = async (steps: number) => {
        if (i % 2 === 0) {
          const [r] = await run(remote!, steps);
          const [l] = await run(local, steps);
          return [r, l] as const;
        }
        const [l] = await run(local, steps);
        const [r] = await run(remote!, steps);
        return [r, l] as const;
      };
      const [rs, ls] = await pair(short);
      const [rl, ll] = await pair(long);
      const step = (rl - ll - (rs - ls)) / (long - short);
      perStep.push(step);
      fixed.push(rs - ls - short * step);
      remoteLong.push(rl);
      localLong.push(ll);
    }
    const shape = `${size}x${size} (latents ${size / 8}x${size / 8}), CFG`;
    return [
      { name: `diff-diff in the sandbox, ${long} steps`, shape, ms: median(remoteLong), note: `median of ${rounds}` },
      { name: `diff-diff on the host, ${long} steps`, shape, ms: median(localLong), note: 'same components, same pixels (checked)' },
      { name: 'sandbox overhead per denoise step', shape, ms: median(perStep), note: `median over rounds of the ${short}/${long}-step difference of differences` },
      { name: 'sandbox overhead per run (fixed part)', shape, ms: median(fixed), note: 'setup, prompt encode, decode crossings' },
    ];
  } finally {
    await remote?.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchRemoteStep()) console.log(`${row.name.padEnd(44)} ${(row.ms ?? 0).toFixed(2).padStart(9)} ms  ${row.shape ?? ''}  ${row.note ?? ''}`);
}
