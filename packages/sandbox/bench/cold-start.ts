/**
 * Cold start of a trusted remote pipeline: from `ModularPipeline.fromPretrained(repo,
 * { trustRemoteCode: true })` on a warm cache to a pipeline ready to run (the repo resolved
 * to its commit, the bundle, config and index checked against the remote-code lock, its
 * sandbox process started, libraries and bundle loaded, blocks described, the sandbox
 * pipeline built), model sessions excluded: the plugin's one host component is arithmetic.
 * The repo is served by the local Hub server, so the real Hub client and the lock are on the
 * path. Run with
 * `npm run bench` (section `remote`) or `node --conditions=source --import tsx bench/cold-start.ts`.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModularPipeline } from '@modular-diffusers/core';
import { Tensor } from '@modular-diffusers/runtime/tensor';
import { buildModularConfig } from '@modular-diffusers/hub';
import { startHubServer } from '@modular-diffusers/hub-server';
import { clearSandboxLibraryCache, getSandboxLibraries, registerComponentAccess, type RemoteModularPipeline } from '../src/index.js';
import { ToyScaler, toyPluginBundle } from '../src/remote/remote-test-kit.test-helpers.js';

export interface ColdStartRow {
  name: string;
  ms: number;
  note?: string;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

export async function benchRemoteColdStart(): Promise<ColdStartRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'remote-cold-start-'));
  const previousCache = process.env.MODULAR_SANDBOX_CACHE;
  let hub: Awaited<ReturnType<typeof startHubServer>> | null = null;
  process.env.MODULAR_SANDBOX_CACHE = join(dir, 'sandbox-libraries');
  try {
    const repo = join(dir, 'toy-plugin');
    await mkdir(repo);
    const bundle = await toyPluginBundle();
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    await writeFile(join(repo, 'block.js'), bundle);
    await writeFile(join(repo, 'modular_config.json'), JSON.stringify(buildModularConfig({ className: 'ToyRemoteBlocks', bundle: { file: 'block.js', sha256, exportName: 'ToyRemoteBlocks' } })));
    registerComponentAccess('ToyScaler', { methods: ['scale'], properties: ['config'] });
    hub = await startHubServer({ root: join(dir, 'hub') });
    await hub.importFolder('bench/toy-plugin', repo);
    const options = { trustRemoteCode: true, hubUrl: hub.url, cacheDir: join(dir, 'hf'), env: { HF_HOME: join(dir, 'hf-home') } };
    const id = 'bench/toy-plugin';

    clearSandboxLibraryCache();
    const [, bundleMs] = await timed(() => getSandboxLibraries());
    clearSandboxLibraryCache();
    const [, diskMs] = await timed(() => getSandboxLibraries());
    // The first trusted load downloads and pins the code; the loads measured below find a warm cache.
    const [first, firstMs] = await timed(() => ModularPipeline.fromPretrained(id, options));
    await (first as unknown as RemoteModularPipeline).dispose();

    const rows: ColdStartRow[] = [
      { name: 'sandbox libraries: esbuild bundle (no cache)', ms: bundleMs },
      { name: 'sandbox libraries: from the disk cache', ms: diskMs },
      { name: 'first trusted fromPretrained (download, pin)', ms: firstMs, note: 'the first sandbox process of this process' },
    ];
    const loads: number[] = [];
    const readies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [pipeline, loadMs] = await timed(async () => (await ModularPipeline.fromPretrained(id, options)) as RemoteModularPipeline & ((i: object) => Promise<unknown>));
      pipeline.updateComponents({ scaler: new ToyScaler(1) });
      const [, runMs] = await timed(() => pipeline({ latents: new Tensor('float32', new Float32Array(4 * 128 * 128), [1, 4, 128, 128]), num_steps: 1, output: 'scaled' }));
      await pipeline.dispose();
      loads.push(loadMs);
      readies.push(loadMs + runMs);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    rows.push(
      { name: 'fromPretrained (trusted code, warm caches)', ms: median(loads), note: 'median of 5; lock check + sandbox process + SES + libraries + bundle + describe' },
      { name: 'fromPretrained to first run done', ms: median(readies), note: 'adds sandbox pipeline init and a 1-step toy run on 1x4x128x128' },
    );
    return rows;
  } finally {
    if (previousCache === undefined) delete process.env.MODULAR_SANDBOX_CACHE;
    else process.env.MODULAR_SANDBOX_CACHE = previousCache;
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchRemoteColdStart()) console.log(`${row.name.padEnd(48)} ${row.ms.toFixed(1).padStart(8)} ms  ${row.note ?? ''}`);
}
