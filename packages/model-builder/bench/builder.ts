/**
 * `npm run bench -- builder`: graphs built from safetensors next to the
 * Optimum-style exports of the same weights.
 *  - session.run: median of the built graph and of the export on the same
 *    feeds (the fixtures' reference inputs), and their ratio (target <= 1.05);
 *  - build time: a cold build and a second load from the built-graph cache;
 *  - peak RSS while loading: in a fresh child process, build (cold) and
 *    create the session for a mid-sized SDXL-shaped UNet with random
 *    weights, float32 and the fp16 variant, above a child that only imported
 *    the modules, next to the weights as the session holds them (float32)
 *    (target: + 10%).
 * Run directly: node --conditions=source --import tsx packages/model-builder/bench/builder.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadOnnxModel, Tensor, float32ArrayToFloat16, type OnnxModel } from '@modular-diffusers/runtime';
import { buildModel, listModelWeights } from '../src/index.js';
import { fixture, int32Ids, readReference } from '../src/testing/reference.js';

export interface BuilderBenchRow {
  name: string;
  shape?: string;
  ms?: number;
  value?: string;
  note?: string;
}

const REAL_ARCH = fileURLToPath(new URL('../../sdxl/fixtures/real-arch/', import.meta.url));

/** A mid-sized SDXL-shaped UNet (about 1/5 of SDXL's widths), big enough that weights dominate the process. */
const RSS_UNET = {
  _class_name: 'UNet2DConditionModel', sample_size: 32, in_channels: 4, out_channels: 4,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  block_out_channels: [64, 128, 256], layers_per_block: 2, transformer_layers_per_block: [1, 2, 4], attention_head_dim: [1, 2, 4],
  cross_attention_dim: 512, use_linear_projection: true, addition_embed_type: 'text_time', addition_time_embed_dim: 64,
  projection_class_embeddings_input_dim: 64 * 6 + 256, norm_num_groups: 32,
};

async function median(model: OnnxModel, feeds: Record<string, Tensor>, iterations: number): Promise<number> {
  for (let i = 0; i < 3; i++) await model.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await model.run(feeds);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Medians of a and b timed alternately, run by run, so load on a shared machine hits both alike. */
async function pairedMedians(a: OnnxModel, aFeeds: Record<string, Tensor>, b: OnnxModel, bFeeds: Record<string, Tensor>, iterations: number): Promise<[number, number]> {
  for (let i = 0; i < 3; i++) {
    await a.run(aFeeds);
    await b.run(bFeeds);
  }
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < iterations; i++) {
    for (const [k, model, feeds] of (i % 2 ? [[0, a, aFeeds], [1, b, bFeeds]] : [[1, b, bFeeds], [0, a, aFeeds]]) as Array<[0 | 1, OnnxModel, Record<string, Tensor>]>) {
      const start = performance.now();
      await model.run(feeds);
      times[k].push(performance.now() - start);
    }
  }
  const mid = (t: number[]) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]!;
  return [mid(times[0]), mid(times[1])];
}

/** The real-arch export takes an int64 timestep (as Optimum's SDXL UNet does); the built graph a float one. */
function adapt(model: OnnxModel, feeds: Record<string, Tensor>): Record<string, Tensor> {
  const timestep = feeds.timestep;
  if (!timestep || model.input('timestep')?.dtype !== 'int64') return feeds;
  return { ...feeds, timestep: new Tensor('int64', BigInt64Array.from(timestep.data as Float32Array, (v) => BigInt(Math.round(v))), timestep.shape) };
}

interface RunCase {
  label: string;
  folder: string;
  graph: string;
  exported: string;
  feeds: () => Promise<Record<string, Tensor>>;
}

async function referenceFeeds(path: string, prefix: string, names: Record<string, string>): Promise<Record<string, Tensor>> {
  const reference = await readReference(path);
  const feeds: Record<string, Tensor> = {};
  for (const [input, key] of Object.entries(names)) {
    const value = reference.get(`${prefix}${key}`);
    if (!value) throw new Error(`bench: no ${prefix}${key} in ${path}`);
    feeds[input] = input === 'input_ids' ? int32Ids(value) : value;
  }
  return feeds;
}

export async function benchBuilder(options: { iterations?: number } = {}): Promise<BuilderBenchRow[]> {
  const iterations = options.iterations ?? 60;
  const dir = await mkdtemp(join(tmpdir(), 'bench-builder-'));
  const rows: BuilderBenchRow[] = [];
  try {
    const realRefs = join(REAL_ARCH, 'references', 'references.safetensors');
    const cases: RunCase[] = [
      {
        label: 'real-arch unet', folder: join(REAL_ARCH, 'repo', 'unet'), graph: 'model', exported: join(REAL_ARCH, 'repo', 'unet', 'model.onnx'),
        feeds: async () => {
          const f = await referenceFeeds(realRefs, 'unet.', { sample: 'sample', encoder_hidden_states: 'encoder_hidden_states', text_embeds: 'text_embeds', time_ids: 'time_ids' });
          return { ...f, timestep: Tensor.float32([751, 751]) };
        },
      },
      {
        label: 'fixture unet-sdxl', folder: fixture('unet-sdxl'), graph: 'model', exported: fixture('unet-sdxl', 'export', 'model.onnx'),
        feeds: () => referenceFeeds(fixture('unet-sdxl', 'reference.safetensors'), 'input.', { sample: 'sample', timestep: 'timestep', encoder_hidden_states: 'encoder_hidden_states', text_embeds: 'text_embeds', time_ids: 'time_ids' }),
      },
      {
        label: 'real-arch vae decoder', folder: join(REAL_ARCH, 'repo', 'vae'), graph: 'decoder', exported: join(REAL_ARCH, 'repo', 'vae_decoder', 'model.onnx'),
        feeds: () => referenceFeeds(realRefs, 'vae.decode.', { latent_sample: 'latent_sample' }),
      },
      {
        label: 'real-arch vae encoder', folder: join(REAL_ARCH, 'repo', 'vae'), graph: 'encoder', exported: join(REAL_ARCH, 'repo', 'vae_encoder', 'model.onnx'),
        feeds: () => referenceFeeds(realRefs, 'vae.encode.', { sample: 'sample' }),
      },
      {
        label: 'real-arch text_encoder_2', folder: join(REAL_ARCH, 'repo', 'text_encoder_2'), graph: 'model', exported: join(REAL_ARCH, 'repo', 'text_encoder_2', 'model.onnx'),
        feeds: () => referenceFeeds(realRefs, 'clip.tokenizer_2.', { input_ids: 'input_ids' }),
      },
    ];
    for (const c of cases) {
      const cacheDir = join(dir, 'cache', c.label.replace(/\W+/g, '-'));
      const cold = await buildModel({ folder: c.folder, cacheDir });
      const warmStart = performance.now();
      const warm = await buildModel({ folder: c.folder, cacheDir });
      const warmMs = performance.now() - warmStart;
      const built = await loadOnnxModel(warm.graphs[c.graph]!, { externalDataFolder: warm.externalDataFolder });
      const exported = await loadOnnxModel(c.exported);
      const feeds = await c.feeds();
      const shape = Object.values(feeds)[0]!.shape.join('x');
      const [builtMs, exportMs] = await pairedMedians(built, adapt(built, feeds), exported, adapt(exported, feeds), iterations);
      rows.push({ name: `${c.label}: session.run, built from safetensors`, shape, ms: builtMs });
      rows.push({ name: `${c.label}: session.run, Optimum-style export`, shape, ms: exportMs });
      rows.push({ name: `${c.label}: built / export`, shape, value: (builtMs / exportMs).toFixed(3), note: 'target <= 1.05' });
      rows.push({ name: `${c.label}: build (cold) / from cache`, value: `${cold.buildMs.toFixed(1)} ms / ${warmMs.toFixed(1)} ms`, note: `${cold.placement}; ${c.graph} graph` });
      await built.release();
      await exported.release();
    }

    const folder = join(dir, 'rss-unet');
    const floatBytes = await writeRandomUnet(folder);
    const baseline = measureChild('baseline', folder, join(dir, 'rss-cache'));
    const plain = measureChild('float32', folder, join(dir, 'rss-cache'));
    const unpacked = measureChild('float32-no-prepacking', folder, join(dir, 'rss-cache'));
    const half = measureChild('fp16', folder, join(dir, 'rss-cache'));
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    rows.push({ name: 'rss unet: weights as the session holds them (float32)', value: mb(floatBytes), note: 'block_out_channels [64, 128, 256], random weights' });
    rows.push({ name: 'rss unet: peak RSS, imports only (baseline)', value: mb(baseline.maxRssBytes) });
    const variants = [
      ['float32 safetensors, in place', plain, 'prepacked MatMul weights: a packed copy, plus the mapped file pages packing read'],
      ['float32, in place, session.disable_prepacking', unpacked, 'onnxruntime maps the safetensors file and computes from it: zero copies'],
      ['fp16 variant, one float32 copy', half, 'the converted weights.f32.bin, then as float32'],
    ] as const;
    for (const [label, r, why] of variants) {
      const above = r.maxRssBytes - baseline.maxRssBytes;
      rows.push({
        name: `rss unet: build + load, ${label}`,
        value: `+${mb(above)} (${(above / floatBytes).toFixed(2)} x weights)`,
        note: `target <= 1.10 x; ${why}; build ${r.buildMs.toFixed(0)} ms, session ${r.sessionMs.toFixed(0)} ms, run 1x4x32x32 ${r.runMs.toFixed(1)} ms`,
      });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes RSS_UNET with random weights, float32 and fp16 variant; returns the float32 bytes. */
export async function writeRandomUnet(folder: string): Promise<number> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(RSS_UNET));
  const shapes = [...listModelWeights('UNet2DConditionModel', RSS_UNET)].sort(([a], [b]) => (a < b ? -1 : 1));
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.05;
  let floatBytes = 0;
  for (const [suffix, width] of [['', 4], ['.fp16', 2]] as const) {
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [key, shape] of shapes) {
      const bytes = shape.reduce((a, b) => a * b, width);
      header[key] = { dtype: width === 4 ? 'F32' : 'F16', shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    if (width === 4) floatBytes = offset;
    let text = JSON.stringify(header);
    text += ' '.repeat((8 - (text.length % 8)) % 8);
    const handle = await open(join(folder, `diffusion_pytorch_model${suffix}.safetensors`), 'w');
    try {
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(text.length));
      await handle.write(Buffer.concat([prefix, Buffer.from(text)]));
      for (const [key, shape] of shapes) {
        const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
        const isNormWeight = /norm.*\.weight$/.test(key);
        for (let i = 0; i < values.length; i++) values[i] = isNormWeight ? 1 : random();
        const out = width === 4 ? values : float32ArrayToFloat16(values);
        await handle.write(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      }
    } finally {
      await handle.close();
    }
  }
  return floatBytes;
}

interface ChildResult {
  maxRssBytes: number;
  buildMs: number;
  sessionMs: number;
  runMs: number;
}

function measureChild(mode: 'baseline' | 'float32' | 'float32-no-prepacking' | 'fp16', folder: string, cacheDir: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', self, '--child', mode, folder, cacheDir], { encoding: 'utf8' });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || !line) throw new Error(`The ${mode} RSS child failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
  return JSON.parse(line) as ChildResult;
}

async function child(mode: string, folder: string, cacheDir: string): Promise<void> {
  let buildMs = 0;
  let sessionMs = 0;
  let runMs = 0;
  let maxRssBytes = 0;
  if (mode !== 'baseline') {
    const variant = mode === 'fp16' ? 'fp16' : null;
    const built = await buildModel({ folder, variant, cacheDir: join(cacheDir, mode) });
    buildMs = built.buildMs;
    const start = performance.now();
    const extra = mode === 'float32-no-prepacking' ? { session: { disable_prepacking: '1' } } : {};
    const model = await loadOnnxModel(built.graphs.model!, { externalDataFolder: built.externalDataFolder, sessionOptions: { extra } });
    sessionMs = performance.now() - start;
    // Peak while loading: read before the first run adds activations.
    maxRssBytes = process.resourceUsage().maxRSS * 1024;
    const feeds = {
      sample: Tensor.zeros('float32', [1, 4, 32, 32]),
      timestep: Tensor.float32([500]),
      encoder_hidden_states: Tensor.zeros('float32', [1, 77, RSS_UNET.cross_attention_dim]),
      text_embeds: Tensor.zeros('float32', [1, 256]),
      time_ids: Tensor.float32([1024, 1024, 0, 0, 1024, 1024], [1, 6]),
    };
    runMs = await median(model, feeds, 5);
    await model.release();
  } else {
    maxRssBytes = process.resourceUsage().maxRSS * 1024;
  }
  console.log(JSON.stringify({ maxRssBytes, buildMs, sessionMs, runMs }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--child');
  if (at >= 0) await child(process.argv[at + 1]!, process.argv[at + 2]!, process.argv[at + 3]!);
  else console.table(await benchBuilder());
}
