/**
 * `npm run bench`: every package's benchmark in one table. Benchmarks are
 * measurements, never assertions: targets are read off this table.
 * Pass section names to run only some: `npm run bench -- tensor session`.
 */
import { benchSessionRun } from '../packages/runtime/bench/session.js';
import { benchTensorOps } from '../packages/runtime/bench/tensor-ops.js';
import { benchResize } from '../packages/runtime/bench/resize.js';
import { benchSchedulersAndGuiders } from '../packages/diffusion/bench/step.js';
import { benchSdxlPipeline } from '../packages/sdxl/bench/pipeline.js';
import { benchRemoteColdStart } from '../packages/sandbox/bench/cold-start.js';
import { benchRemoteStep } from '../packages/sandbox/bench/remote-step.js';
import { benchMemory } from '../packages/sdxl/bench/memory.js';
import { benchRealArchText2Img } from '../packages/sdxl/bench/real-arch.js';
import { benchBuilder } from '../packages/model-builder/bench/builder.js';
import { benchAdapters } from '../packages/sdxl/bench/adapters.js';
import { registerFamily } from '@modular-diffusers/core';
import { installHub } from '@modular-diffusers/hub';
import { installSandbox } from '@modular-diffusers/sandbox';
import { sdxl } from '@modular-diffusers/sdxl';

// Importing a package registers nothing: the benchmarks run SDXL composed as an application does.
installHub();
installSandbox();
registerFamily(sdxl);

interface Row {
  name: string;
  shape?: string;
  ms?: number;
  value?: string;
  note?: string;
}

interface Section {
  name: string;
  title: string;
  run: () => Promise<Row[]> | Row[];
}

const sections: Section[] = [
  { name: 'tensor', title: 'Tensor operations of one denoise step (runtime)', run: benchTensorOps },
  { name: 'resize', title: 'Resizing a 1024x1024 RGB input image: PIL-exact (what preprocess uses) vs sharp (runtime)', run: () => benchResize() },
  { name: 'session', title: 'One tiny-UNet session.run (runtime, CPU)', run: () => benchSessionRun() },
  { name: 'scheduler', title: 'Scheduler step and guidance per denoise step (diffusion)', run: () => benchSchedulersAndGuiders() },
  { name: 'pipeline', title: 'SDXL text2img on the tiny repo: the engine next to session.run (sdxl)', run: () => benchSdxlPipeline() },
  {
    name: 'real-arch',
    title: "SDXL text2img on the real-architecture fixture (diffusers' UNet/VAE/CLIP exports): pipeline wall time next to session.run (sdxl)",
    run: () => benchRealArchText2Img(),
  },
  { name: 'cold-start', title: 'Cold start: fromPretrained with trusted remote code on a warm cache (sandbox)', run: () => benchRemoteColdStart() },
  { name: 'remote-step', title: 'Per-step cost of the sandbox: plugins/diffdiff run as trusted remote code vs the same blocks on the host (sandbox)', run: () => benchRemoteStep() },
  { name: 'builder', title: 'Graphs built from safetensors vs Optimum-style exports of the same weights: session.run, build time, peak RSS while loading (model-builder)', run: () => benchBuilder() },
  { name: 'adapters', title: 'Adapters from safetensors on the real-architecture fixture: LoRA fuse and weight changes, IP-Adapter load and scale, ControlNet rebuild (sdxl)', run: () => benchAdapters() },
  { name: 'memory', title: 'Peak RSS of a tiny-repo text2img run next to its weight files, with and without a budget (sdxl)', run: () => benchMemory() },
];

function formatRows(rows: Row[]): string {
  const header = ['benchmark', 'shape', 'result', 'note'];
  const body = rows.map((row) => [
    row.name,
    row.shape ?? '',
    row.value ?? (row.ms !== undefined ? `${row.ms.toFixed(3)} ms` : ''),
    row.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const wanted = new Set(process.argv.slice(2));
for (const section of sections) {
  if (wanted.size > 0 && !wanted.has(section.name)) continue;
  const rows = await section.run();
  console.log(`\n## ${section.title}\n`);
  console.log(formatRows(rows));
}
