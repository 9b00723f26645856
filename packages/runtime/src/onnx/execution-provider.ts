/**
 * Which onnxruntime execution provider (EP) runs a model. Kept apart from
 * session code so the choice is testable without a GPU: availability is
 * probed from the file system (is the provider library there?) through an
 * injectable environment, and `createWithProvider` walks the candidates,
 * recording why each skipped one did not run.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { ModularDiffusersError } from '@modular-diffusers/core';

export type Device = 'cpu' | 'cuda' | 'webgpu' | 'auto';
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/** The order `device: 'auto'` tries: fastest first, CPU always last. */
export const AUTO_PROVIDER_ORDER: readonly ExecutionProvider[] = ['cuda', 'webgpu', 'cpu'];

export interface ProviderProbeEnvironment {
  platform: NodeJS.Platform;
  arch: string;
  /** Folder holding onnxruntime_binding.node and any downloaded provider libraries. */
  bindingDir: string;
  /** Folders searched for the Vulkan loader on Linux. */
  libraryDirs: readonly string[];
  fileExists(path: string): boolean;
}

export interface ProviderAvailability {
  provider: ExecutionProvider;
  available: boolean;
  /** Why it is unavailable (absent when available). */
  reason?: string;
}

export interface ProviderAttempt {
  provider: ExecutionProvider;
  reason: string;
}

export class ExecutionProviderUnavailableError extends ModularDiffusersError {
  static override readonly code: string = 'EXECUTION_PROVIDER_UNAVAILABLE';
  override name = 'ExecutionProviderUnavailableError';
  constructor(
    readonly provider: ExecutionProvider,
    readonly reason: string,
    readonly remedy: string,
  ) {
    super(`The '${provider}' execution provider is unavailable: ${reason}\n${remedy}`);
  }
}

export class UnknownDeviceError extends ModularDiffusersError {
  static override readonly code: string = 'UNKNOWN_DEVICE';
  override name = 'UnknownDeviceError';
}

export function providerRemedy(provider: ExecutionProvider): string {
  switch (provider) {
    case 'cuda':
      return (
        "To use CUDA: on Linux x64 with an NVIDIA driver, CUDA 12 and cuDNN 9, install onnxruntime-node's CUDA provider " +
        'libraries, which this project skips at install time (.npmrc: ignore-scripts=true) because they are ' +
        "downloaded from NuGet, not npm: run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false` " +
        "(the package's script/install.js then fetches Microsoft.ML.OnnxRuntime.Gpu.Linux). Or pick device 'webgpu', 'cpu' or 'auto'."
      );
    case 'webgpu':
      return (
        "To use WebGPU: onnxruntime-node bundles it (Dawn) on Linux x64, Windows and macOS; on Linux it needs a GPU, its " +
        "driver and the Vulkan loader (Debian/Ubuntu: `apt-get install libvulkan1`). Or pick device 'cuda', 'cpu' or 'auto'."
      );
    case 'cpu':
      return 'The CPU provider is always bundled with onnxruntime-node; reinstall onnxruntime-node if it fails to load.';
  }
}

let defaultEnvironment: ProviderProbeEnvironment | undefined;

export function defaultProbeEnvironment(): ProviderProbeEnvironment {
  if (!defaultEnvironment) {
    const require = createRequire(import.meta.url);
    // onnxruntime-node resolves to <pkg>/dist/index.js; its binaries live in <pkg>/bin/napi-v6/<platform>/<arch>.
    const packageDir = dirname(dirname(require.resolve('onnxruntime-node')));
    const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
    defaultEnvironment = {
      platform: process.platform,
      arch: process.arch,
      bindingDir: join(packageDir, 'bin', 'napi-v6', process.platform, process.arch),
      libraryDirs: [
        ...fromEnv,
        '/usr/lib/x86_64-linux-gnu',
        '/usr/lib/aarch64-linux-gnu',
        '/lib/x86_64-linux-gnu',
        '/usr/lib64',
        '/usr/lib',
        '/usr/local/lib',
      ],
      fileExists: existsSync,
    };
  }
  return defaultEnvironment;
}

/** Whether `provider` can be tried here, from what is installed (no session is created). */
export function probeProvider(provider: ExecutionProvider, env: ProviderProbeEnvironment = defaultProbeEnvironment()): ProviderAvailability {
  const where = `${env.platform}/${env.arch}`;
  if (provider === 'cpu') return { provider, available: true };
  if (provider === 'cuda') {
    if (where !== 'linux/x64') {
      return { provider, available: false, reason: `onnxruntime-node ships the CUDA provider for linux/x64 only, this is ${where}.` };
    }
    const missing = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'].filter(
      (file) => !env.fileExists(join(env.bindingDir, file)),
    );
    return missing.length === 0
      ? { provider, available: true }
      : { provider, available: false, reason: `${missing.join(' and ')} not found in ${env.bindingDir}.` };
  }
  if (where === 'linux/arm64') {
    return { provider, available: false, reason: "onnxruntime-node's linux/arm64 build does not include WebGPU." };
  }
  if (env.platform === 'linux' && !env.libraryDirs.some((dir) => env.fileExists(join(dir, 'libvulkan.so.1')))) {
    return { provider, available: false, reason: 'the Vulkan loader libvulkan.so.1 was not found, so Dawn cannot reach a GPU.' };
  }
  return { provider, available: true };
}

/** The providers to try for a device, in order. */
export function providerCandidates(device: Device): ExecutionProvider[] {
  if (device === 'auto') return [...AUTO_PROVIDER_ORDER];
  if (device === 'cpu' || device === 'cuda' || device === 'webgpu') return [device];
  throw new UnknownDeviceError(`Unknown device '${String(device)}'; use 'cpu', 'cuda', 'webgpu' or 'auto'.`);
}

export interface ProviderChoice<T> {
  value: T;
  provider: ExecutionProvider;
  /** Providers tried or skipped before the one that ran, with the reason. */
  skipped: ProviderAttempt[];
}

/**
 * Create something (a session) with the first provider that works for
 * `device`. An explicitly requested provider that is missing or fails to
 * start is an ExecutionProviderUnavailableError; under 'auto' it is skipped.
 * CPU errors are never swallowed: they are about the model, not the device.
 */
export async function createWithProvider<T>(
  device: Device,
  create: (provider: ExecutionProvider) => Promise<T>,
  probe: (provider: ExecutionProvider) => ProviderAvailability = (p) => probeProvider(p),
): Promise<ProviderChoice<T>> {
  const candidates = providerCandidates(device);
  const skipped: ProviderAttempt[] = [];
  for (const provider of candidates) {
    const availability = probe(provider);
    if (!availability.available) {
      const reason = availability.reason ?? 'not available.';
      if (device !== 'auto') throw new ExecutionProviderUnavailableError(provider, reason, providerRemedy(provider));
      skipped.push({ provider, reason });
      continue;
    }
    if (provider === 'cpu') return { value: await create(provider), provider, skipped };
    try {
      return { value: await create(provider), provider, skipped };
    } catch (error) {
      const reason = `it failed to start: ${error instanceof Error ? error.message.trim() : String(error)}`;
      if (device !== 'auto') throw new ExecutionProviderUnavailableError(provider, reason, providerRemedy(provider));
      skipped.push({ provider, reason });
    }
  }
  // Unreachable for 'auto' (cpu is last and either returns or throws); kept for the type checker.
  throw new ExecutionProviderUnavailableError(candidates[candidates.length - 1], 'no provider could be started.', providerRemedy('cpu'));
}
