import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../image/rgb-image.js';
import { compareImages, findVulkanLoader, formatProviderCheckTable, IMAGE_TOLERANCE_LEVELS, medianOf, rowStatus, timeBareSessionRun } from './provider-check.js';

const image = (values: number[], width = values.length / 3): RgbImage => ({ width, height: 1, channels: 3, data: Uint8Array.from(values) });

describe('compareImages', () => {
  it('reports the largest and mean channel difference and judges it against 2/255', () => {
    const reference = image([10, 20, 30, 200, 100, 0]);
    expect(compareImages(reference, reference)).toEqual({ maxAbsDiff: 0, meanAbsDiff: 0, differing: 0, withinTolerance: true });
    // Differences 0, 2, 0, 1, 0, 0: max 2, mean 3/6.
    expect(compareImages(reference, image([10, 22, 30, 199, 100, 0]))).toEqual({ maxAbsDiff: 2, meanAbsDiff: 0.5, differing: 2, withinTolerance: true });
    const off = compareImages(reference, image([10, 23, 30, 200, 100, 0]));
    expect([off.maxAbsDiff, off.withinTolerance, rowStatus(off)]).toEqual([3, false, 'mismatch']);
    expect(IMAGE_TOLERANCE_LEVELS).toBe(2);
    expect(compareImages(reference, image([10, 23, 30, 200, 100, 0]), 3).withinTolerance).toBe(true);
    expect(rowStatus(undefined)).toBe('ok');
  });

  it('refuses images of different sizes', () => {
    expect(() => compareImages(image([1, 2, 3]), image([1, 2, 3, 4, 5, 6]))).toThrow(/same height, width/);
  });
});

describe('findVulkanLoader', () => {
  const env = (files: string[]) => ({ platform: 'linux' as const, libraryDirs: ['/opt/vk', '/usr/lib/x86_64-linux-gnu'], fileExists: (p: string) => files.includes(p) });

  it('finds libvulkan.so.1 in the library folders, in order', () => {
    expect(findVulkanLoader(env(['/usr/lib/x86_64-linux-gnu/libvulkan.so.1']))).toEqual({ found: true, path: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1' });
    expect(findVulkanLoader({ ...env([]), platform: 'win32' })).toEqual({ found: true });
  });

  it('says exactly what to run when it is missing, by which tools are there', () => {
    const withApt = findVulkanLoader(env([]), { aptGet: true, dpkg: true });
    expect(withApt.found).toBe(false);
    expect(withApt.advice).toContain('apt-get download libvulkan1');
    expect(withApt.advice).toContain('GPU_CHECK_DEBS=/tmp/gpu-check-debs npm run gpu-check');
    expect(findVulkanLoader(env([]), { aptGet: false, dpkg: true }).advice).toMatch(/apt-get is missing.*copy the \.deb/);
    expect(findVulkanLoader(env([])).advice).toMatch(/neither apt-get nor dpkg/);
  });
});

describe('formatProviderCheckTable', () => {
  it('puts step times next to bare session.run times and the CPU difference, with reasons for unavailable providers', () => {
    const table = formatProviderCheckTable([
      { provider: 'cpu', status: 'ok', totalMs: 120.5, stepMs: 10.25, sessionRunMs: 8 },
      { provider: 'webgpu', status: 'ok', totalMs: 60, stepMs: 4, sessionRunMs: 3.5, comparison: { maxAbsDiff: 1, meanAbsDiff: 0.0625, differing: 3, withinTolerance: true } },
      { provider: 'cuda', status: 'unavailable', reason: 'libonnxruntime_providers_cuda.so not found.' },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe(
      '| provider | status      | pipeline run | denoise step (median) | bare UNet session.run (median) | max |diff| vs cpu (<= 2/255) | note                                        |',
    );
    expect(lines[2]).toBe(
      '| cpu      | ok          | 120.50 ms    | 10.25 ms              | 8.00 ms                        | reference                    |                                             |',
    );
    expect(lines[3]).toContain('| webgpu   | ok          | 60.00 ms     | 4.00 ms               | 3.50 ms                        | 1/255 (mean 0.063)');
    expect(lines[4]).toContain('| cuda     | unavailable |');
    expect(lines[4]).toContain('libonnxruntime_providers_cuda.so not found. |');
  });
});

describe('timeBareSessionRun', () => {
  it('times session.run on the given feeds and names a missing one', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { GraphBuilder } = await import('./builder/graph-builder.js');
    const { writeOnnxModel } = await import('./builder/write-onnx-model.js');
    const { Tensor } = await import('../tensor/tensor.js');
    const dir = await mkdtemp(join(tmpdir(), 'bare-run-'));
    try {
      const g = new GraphBuilder('m');
      g.output('y', g.op('Add', [g.input('x', 'float32', [2]), g.constFloat(Float32Array.of(1, 2), [2])]), 'float32', [2]);
      const [path] = await writeOnnxModel(join(dir, 'model.onnx'), g);
      const ms = await timeBareSessionRun(path, { x: Tensor.float32([1, 2], [2]) }, { provider: 'cpu', warmup: 1, iterations: 3 });
      expect(ms).toBeGreaterThan(0);
      await expect(timeBareSessionRun(path, {}, { provider: 'cpu' })).rejects.toThrow(/No feed for input 'x'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('medianOf takes the middle value', () => {
    expect(medianOf([5, 1, 3])).toBe(3);
    expect(medianOf([4, 1, 3, 2])).toBe(3);
    expect(medianOf([])).toBe(0);
  });
});
