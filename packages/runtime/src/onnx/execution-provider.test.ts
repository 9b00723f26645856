import { describe, expect, it } from 'vitest';
import {
  createWithProvider,
  ExecutionProviderUnavailableError,
  probeProvider,
  providerCandidates,
  UnknownDeviceError,
  type ProviderProbeEnvironment,
} from './execution-provider.js';

function env(files: string[], platform: NodeJS.Platform = 'linux', arch = 'x64'): ProviderProbeEnvironment {
  return { platform, arch, bindingDir: '/ort/bin', libraryDirs: ['/usr/lib'], fileExists: (p) => files.includes(p) };
}

describe('providerCandidates', () => {
  it("orders 'auto' as cuda, webgpu, cpu and keeps an explicit device alone", () => {
    expect(providerCandidates('auto')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerCandidates('webgpu')).toEqual(['webgpu']);
    expect(() => providerCandidates('tpu' as never)).toThrow(UnknownDeviceError);
  });
});

describe('probeProvider', () => {
  it('needs both CUDA provider libraries beside the binding, on linux/x64 only', () => {
    const both = ['/ort/bin/libonnxruntime_providers_cuda.so', '/ort/bin/libonnxruntime_providers_shared.so'];
    expect(probeProvider('cuda', env(both)).available).toBe(true);
    expect(probeProvider('cuda', env(both.slice(0, 1)))).toMatchObject({
      available: false,
      reason: expect.stringContaining('libonnxruntime_providers_shared.so not found'),
    });
    expect(probeProvider('cuda', env(both, 'darwin', 'arm64')).available).toBe(false);
  });

  it('needs the Vulkan loader for WebGPU on Linux, not elsewhere', () => {
    expect(probeProvider('webgpu', env(['/usr/lib/libvulkan.so.1'])).available).toBe(true);
    expect(probeProvider('webgpu', env([])).reason).toMatch(/libvulkan\.so\.1/);
    expect(probeProvider('webgpu', env([], 'win32')).available).toBe(true);
    expect(probeProvider('webgpu', env(['/usr/lib/libvulkan.so.1'], 'linux', 'arm64')).available).toBe(false);
    expect(probeProvider('cpu', env([])).available).toBe(true);
  });
});

describe('createWithProvider', () => {
  const allAvailable = (provider: 'cpu' | 'cuda' | 'webgpu') => ({ provider, available: true });

  it("'auto' skips unavailable and failing providers, records why, and lands on cpu", async () => {
    const tried: string[] = [];
    const choice = await createWithProvider(
      'auto',
      async (p) => {
        tried.push(p);
        if (p === 'webgpu') throw new Error('No supported adapters');
        return `session on ${p}`;
      },
      (p) => (p === 'cuda' ? { provider: p, available: false, reason: 'no libs.' } : allAvailable(p)),
    );
    expect(tried).toEqual(['webgpu', 'cpu']);
    expect(choice).toEqual({
      value: 'session on cpu',
      provider: 'cpu',
      skipped: [
        { provider: 'cuda', reason: 'no libs.' },
        { provider: 'webgpu', reason: 'it failed to start: No supported adapters' },
      ],
    });
  });

  it("'auto' uses the first provider that starts", async () => {
    const choice = await createWithProvider('auto', async (p) => p, allAvailable);
    expect(choice.provider).toBe('cuda');
  });

  it('an explicit unavailable provider is a typed error with the remedy', async () => {
    const error = await createWithProvider('cuda', async () => 'never', () => ({
      provider: 'cuda',
      available: false,
      reason: 'libs missing.',
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionProviderUnavailableError);
    expect((error as ExecutionProviderUnavailableError).provider).toBe('cuda');
    expect((error as Error).message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  });

  it('an explicit provider that fails to start is a typed error too', async () => {
    await expect(
      createWithProvider('webgpu', async () => Promise.reject(new Error('No supported adapters')), allAvailable),
    ).rejects.toThrow(/'webgpu' execution provider is unavailable: it failed to start: No supported adapters[\s\S]*libvulkan1/);
  });

  it('never hides a cpu failure: it is about the model, not the device', async () => {
    await expect(createWithProvider('auto', async (p) => {
      if (p === 'cpu') throw new Error('Protobuf parsing failed');
      throw new Error('no gpu');
    }, allAvailable)).rejects.toThrow('Protobuf parsing failed');
  });
});
