/**
 * The parts of the GPU check (`npm run gpu-check`) that are plain logic, so
 * they are tested on machines without a GPU: comparing a provider's image
 * with the CPU's, the Vulkan-loader search and advice WebGPU needs on Linux,
 * the result table, and timing a bare session.run.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/rgb-image.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ExecutionProvider, ProviderProbeEnvironment } from './execution-provider.js';
import { toOrtTensor } from './tensor-conversion.js';

/**
 * Largest per-channel difference, in 8-bit levels, a GPU image may have
 * against the CPU image of the same run: 2/255. Float32 kernels on another
 * device reorder sums (last-bit differences), which can move a value across
 * a rounding boundary once or twice after the 0..255 quantization, never more
 * for a correct provider.
 */
export const IMAGE_TOLERANCE_LEVELS = 2;

export interface ImageComparison {
  /** Largest absolute difference of one channel value, 0..255. */
  maxAbsDiff: number;
  /** Mean absolute difference over every channel value. */
  meanAbsDiff: number;
  /** Channel values that differ at all. */
  differing: number;
  withinTolerance: boolean;
}

/** Compares `other` with `reference` channel by channel; images of different sizes are an error. */
export function compareImages(reference: RgbImage, other: RgbImage, toleranceLevels = IMAGE_TOLERANCE_LEVELS): ImageComparison {
  if (reference.width !== other.width || reference.height !== other.height || reference.channels !== other.channels) {
    throw new RangeError(
      `Cannot compare a ${other.width}x${other.height}x${other.channels} image with a ${reference.width}x${reference.height}x${reference.channels} one; ` +
        'run both providers with the same height, width and output type.',
    );
  }
  let max = 0;
  let total = 0;
  let differing = 0;
  for (let i = 0; i < reference.data.length; i++) {
    const d = Math.abs(reference.data[i]! - other.data[i]!);
    if (d > max) max = d;
    if (d > 0) differing += 1;
    total += d;
  }
  const meanAbsDiff = reference.data.length === 0 ? 0 : total / reference.data.length;
  return { maxAbsDiff: max, meanAbsDiff, differing, withinTolerance: max <= toleranceLevels };
}

export interface VulkanLoaderStatus {
  found: boolean;
  /** Where libvulkan.so.1 is, when found. */
  path?: string;
  /** When missing: what to run to bring it, or why it cannot be brought. */
  advice?: string;
}

/**
 * Looks for the Vulkan loader (libvulkan.so.1) Dawn needs for WebGPU on Linux
 * in the probe's library folders. When it is missing, the advice says how
 * to bring it without root: `apt-get download` fetches the Debian package
 * (on a machine with apt), `dpkg -x` unpacks it anywhere, and the check is
 * run again with LD_LIBRARY_PATH pointing there (or with GPU_CHECK_DEBS
 * naming the folder holding the .deb, which the script unpacks itself).
 */
export function findVulkanLoader(
  env: Pick<ProviderProbeEnvironment, 'platform' | 'libraryDirs' | 'fileExists'>,
  tools: { aptGet: boolean; dpkg: boolean } = { aptGet: false, dpkg: false },
): VulkanLoaderStatus {
  if (env.platform !== 'linux') return { found: true };
  for (const dir of env.libraryDirs) {
    const path = join(dir, 'libvulkan.so.1');
    if (env.fileExists(path)) return { found: true, path };
  }
  const unpack = 'mkdir -p /tmp/gpu-check-debs && cd /tmp/gpu-check-debs && apt-get download libvulkan1';
  const rerun = 'GPU_CHECK_DEBS=/tmp/gpu-check-debs npm run gpu-check';
  let advice: string;
  if (tools.aptGet && tools.dpkg) {
    advice = `libvulkan.so.1 not found. Fetch the Debian package (no root needed) and run again: \`${unpack} && cd - && ${rerun}\``;
  } else if (tools.dpkg) {
    advice = `libvulkan.so.1 not found and apt-get is missing: on a Debian/Ubuntu machine with network run \`apt-get download libvulkan1\`, copy the .deb into /tmp/gpu-check-debs here, then \`${rerun}\``;
  } else {
    advice =
      'libvulkan.so.1 not found and neither apt-get nor dpkg is here: install the Vulkan loader with the system package manager ' +
      '(libvulkan1 / vulkan-loader), or point LD_LIBRARY_PATH at a folder holding libvulkan.so.1.';
  }
  return { found: false, advice };
}

export interface ProviderCheckRow {
  provider: ExecutionProvider;
  status: 'ok' | 'mismatch' | 'unavailable' | 'failed';
  /** Why it is unavailable or failed. */
  reason?: string;
  /** Wall time of the whole pipeline call. */
  totalMs?: number;
  /** Median wall time of one denoise step inside the pipeline. */
  stepMs?: number;
  /** Median time of the same UNet session.run on the same inputs, alone. */
  sessionRunMs?: number;
  /** Against the CPU image (absent for the CPU row). */
  comparison?: ImageComparison;
}

/** The check's verdict per provider: an image within tolerance is 'ok', outside it 'mismatch'. */
export function rowStatus(comparison: ImageComparison | undefined): 'ok' | 'mismatch' {
  return comparison && !comparison.withinTolerance ? 'mismatch' : 'ok';
}

/** A Markdown table: one row per provider, times next to bare session.run times, the image difference against CPU. */
export function formatProviderCheckTable(rows: readonly ProviderCheckRow[], toleranceLevels = IMAGE_TOLERANCE_LEVELS): string {
  const ms = (v: number | undefined) => (v === undefined ? '' : `${v.toFixed(2)} ms`);
  const header = ['provider', 'status', 'pipeline run', 'denoise step (median)', 'bare UNet session.run (median)', `max |diff| vs cpu (<= ${toleranceLevels}/255)`, 'note'];
  const body = rows.map((r) => [
    r.provider,
    r.status,
    ms(r.totalMs),
    ms(r.stepMs),
    ms(r.sessionRunMs),
    r.provider === 'cpu' ? 'reference' : r.comparison ? `${r.comparison.maxAbsDiff}/255 (mean ${r.comparison.meanAbsDiff.toFixed(3)})` : '',
    r.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * Median wall time of `session.run` alone for `feeds` (converted to the
 * session's element types once, before timing), on a fresh session of
 * `modelPath` on `provider`: what the model costs without any pipeline around it.
 */
export async function timeBareSessionRun(
  modelPath: string,
  feeds: Readonly<Record<string, Tensor>>,
  options: { provider: ExecutionProvider; warmup?: number; iterations?: number },
): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: [options.provider] });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const meta of session.inputMetadata) {
      const tensor = feeds[meta.name];
      if (!tensor) throw new RangeError(`No feed for input '${meta.name}' of ${modelPath}; pass every input the model declares.`);
      ortFeeds[meta.name] = toOrtTensor(tensor, meta.isTensor ? meta.type : tensor.dtype, `Input '${meta.name}'`);
    }
    for (let i = 0; i < (options.warmup ?? 2); i++) await session.run(ortFeeds);
    const times: number[] = [];
    for (let i = 0; i < (options.iterations ?? 5); i++) {
      const start = performance.now();
      await session.run(ortFeeds);
      times.push(performance.now() - start);
    }
    return medianOf(times);
  } finally {
    await session.release();
  }
}

/** The middle value (the upper one of an even count); 0 for none. */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
