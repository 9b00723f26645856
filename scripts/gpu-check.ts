/**
 * `npm run gpu-check`: on a machine with an NVIDIA GPU, in one command, the
 * tiny SDXL repo's text-to-image run on CPU, WebGPU and CUDA, each image
 * compared with the CPU image (max |diff| <= 2/255) and per-step times printed
 * next to bare UNet session.run times. On a machine without a GPU it prints
 * the CPU row and the others as unavailable, with the reason and what to do.
 *
 * WebGPU (bundled in onnxruntime-node, Dawn over Vulkan) needs the Vulkan
 * loader libvulkan.so.1. Without root it can come from the Debian package:
 * put libvulkan1_*.deb (from `apt-get download libvulkan1`) in a folder and
 * run with GPU_CHECK_DEBS=<folder>; the script unpacks it with `dpkg -x` and
 * re-runs itself with LD_LIBRARY_PATH pointing there (the dynamic loader
 * reads LD_LIBRARY_PATH only at process start).
 * CUDA needs onnxruntime-node's CUDA provider libraries, which the project
 * skips at install: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { defaultProbeEnvironment, findVulkanLoader, type ExecutionProvider } from '../packages/runtime/src/index.js';
import { runGpuCheck } from '../packages/sdxl/bench/gpu-check.js';
import { registerFamily } from '@modular-diffusers/core';
import { sdxl } from '@modular-diffusers/sdxl';

// Importing a package registers nothing: the check runs SDXL with its family registered.
registerFamily(sdxl);

const UNPACKED = join(tmpdir(), 'gpu-check-vulkan');
const LIB_DIRS = ['usr/lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'usr/lib'];

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Unpacks libvulkan1 from GPU_CHECK_DEBS and re-runs this script with it on LD_LIBRARY_PATH; returns false when there is nothing to do. */
function reexecWithUnpackedVulkan(): boolean {
  if (process.platform !== 'linux' || process.env.GPU_CHECK_REEXEC === '1') return false;
  if (findVulkanLoader(defaultProbeEnvironment()).found) return false;
  const debDir = process.env.GPU_CHECK_DEBS;
  if (!debDir || !existsSync(debDir)) return false;
  const debs = readdirSync(debDir).filter((f) => /^libvulkan1_.*\.deb$/.test(f));
  if (debs.length === 0) {
    console.log(`GPU_CHECK_DEBS=${debDir} holds no libvulkan1_*.deb; run \`apt-get download libvulkan1\` in that folder.`);
    return false;
  }
  if (!hasTool('dpkg')) {
    console.log('dpkg is missing, so the libvulkan1 package cannot be unpacked here.');
    return false;
  }
  mkdirSync(UNPACKED, { recursive: true });
  for (const deb of debs) execFileSync('dpkg', ['-x', join(debDir, deb), UNPACKED]);
  const libDir = LIB_DIRS.map((d) => join(UNPACKED, d)).find((d) => existsSync(join(d, 'libvulkan.so.1')));
  if (!libDir) {
    console.log(`Unpacked ${debs.join(', ')} into ${UNPACKED} but found no libvulkan.so.1 in it.`);
    return false;
  }
  console.log(`Using the Vulkan loader unpacked from ${debs.join(', ')}: ${libDir}`);
  const env = { ...process.env, GPU_CHECK_REEXEC: '1', LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(child.status ?? 1);
}

function describeGpu(): string {
  if (!hasTool('nvidia-smi')) return 'no nvidia-smi: no NVIDIA GPU visible';
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
  } catch (error) {
    return `nvidia-smi failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

reexecWithUnpackedVulkan();
const wanted = process.argv.slice(2).filter((a) => ['cpu', 'webgpu', 'cuda'].includes(a)) as ExecutionProvider[];
console.log(`GPU: ${describeGpu()}`);
const vulkan = findVulkanLoader(defaultProbeEnvironment());
console.log(`Vulkan loader: ${vulkan.found ? (vulkan.path ?? 'not needed on this platform') : 'missing'}`);
const { rows, table } = await runGpuCheck({
  providers: wanted.length ? ['cpu', ...wanted.filter((p) => p !== 'cpu')] : undefined,
  tools: { aptGet: hasTool('apt-get'), dpkg: hasTool('dpkg') },
  log: (line) => console.log(`  ${line}`),
});
console.log(`\n${table}\n`);
for (const row of rows) {
  if (row.status === 'unavailable') console.log(`${row.provider}: unavailable (${row.reason})`);
}
// Unavailable providers are reported, not failures; a wrong image or a broken CPU run is.
process.exitCode = rows.some((r) => r.status === 'mismatch' || r.status === 'failed') ? 1 : 0;
