/**
 * Times one tiny-UNet session.run through OnnxModel (feed conversion
 * included) at SDXL's 1024x1024 latent size, batch 1 and 2 (the CFG batch):
 * median of `iterations` runs after `warmup` runs. Run directly:
 *   node --conditions=source --import tsx packages/runtime/bench/session.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeOnnxModel } from '../src/onnx/builder/write-onnx-model.js';
import { loadOnnxModel } from '../src/onnx/onnx-model.js';
import type { Device } from '../src/onnx/execution-provider.js';
import { Tensor } from '../src/tensor/tensor.js';
import { SeededRandom } from '../src/tiny-sdxl/seeded-random.js';
import { buildTinyUnet } from '../src/tiny-sdxl/unet.js';

export interface SessionBenchRow {
  name: string;
  shape: string;
  ms: number;
}

export async function benchSessionRun(options: { device?: Device; warmup?: number; iterations?: number } = {}): Promise<SessionBenchRow[]> {
  const warmup = options.warmup ?? 3;
  const iterations = options.iterations ?? 20;
  const dir = await mkdtemp(join(tmpdir(), 'bench-session-'));
  try {
    const [path] = await writeOnnxModel(join(dir, 'unet', 'model.onnx'), buildTinyUnet(new SeededRandom(0).fork('unet')), { externalData: true });
    const model = await loadOnnxModel(path, { device: options.device ?? 'cpu' });
    const rows: SessionBenchRow[] = [];
    for (const batch of [1, 2]) {
      const shape = [batch, 4, 128, 128];
      const rng = new SeededRandom(batch);
      const feeds = {
        sample: Tensor.float32(rng.normal(shape.reduce((a, b) => a * b)), shape),
        timestep: Tensor.float32([501]),
        encoder_hidden_states: Tensor.float32(rng.normal(batch * 77 * 2048), [batch, 77, 2048]),
        text_embeds: Tensor.float32(rng.normal(batch * 1280), [batch, 1280]),
        time_ids: Tensor.float32(Array.from({ length: batch }, () => [1024, 1024, 0, 0, 1024, 1024]).flat(), [batch, 6]),
      };
      for (let i = 0; i < warmup; i++) await model.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const start = performance.now();
        await model.run(feeds);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      rows.push({ name: `tiny unet session.run (${model.provider})`, shape: shape.join('x'), ms: +times[Math.floor(times.length / 2)].toFixed(3) });
    }
    await model.release();
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchSessionRun());
}
