/**
 * The RemoteCodeLoader `fromPretrained` hands trusted bundles to: the bundle
 * runs in a sandbox (one per pipeline), never in the host realm. `installSandbox()` installs it;
 * importing the package installs nothing.
 */
import { getRemoteCodeLoader, setRemoteCodeLoader, type RemoteCodeLoader, type RemoteCodeRequest } from '@modular-diffusers/hub';
import { loadRemoteBlocks } from './load-remote-blocks.js';
import type { RemoteBlocks } from './remote-blocks.js';
import type { RemoteModularPipeline } from './remote-modular-pipeline.js';
import type { RemoteSandboxOptions, RemoteSource } from './remote-session.js';

function sourceOf(request: RemoteCodeRequest): RemoteSource {
  const where = request.commit ? `${request.repo}@${request.commit}` : request.repo;
  return {
    source: request.bundleSource,
    filename: `hf://${where}/${request.bundleFile}`,
    exportName: request.exportName,
    repo: request.repo,
    commit: request.commit,
  };
}

/** A loader with fixed sandbox options (limits, library cache); `sandboxRemoteCodeLoader` uses the defaults. */
export function createSandboxRemoteCodeLoader(options: RemoteSandboxOptions = {}): RemoteCodeLoader & {
  loadPipeline(request: RemoteCodeRequest): Promise<RemoteModularPipeline>;
  loadBlocks(request: RemoteCodeRequest): Promise<RemoteBlocks>;
} {
  return {
    async loadBlocks(request) {
      return loadRemoteBlocks(sourceOf(request), options);
    },
    async loadPipeline(request) {
      const blocks = await loadRemoteBlocks(sourceOf(request), options);
      const { componentsManager, collection, loaderRegistry, device, maxMemory } = request.init;
      return blocks.initPipeline(request.repo, {
        componentsManager,
        collection,
        ...(loaderRegistry ? { loaderRegistry } : {}),
        repoResolver: request.resolver,
        modelIndex: request.modelIndex,
        loadOptions: typeof device === 'string' ? { device } : {},
        ...(maxMemory !== undefined ? { maxMemory } : {}),
      });
    },
  };
}

export const sandboxRemoteCodeLoader = createSandboxRemoteCodeLoader();

/** Installs the sandbox loader unless another loader is installed already; returns the active loader. */
export function installSandboxRemoteCodeLoader(): RemoteCodeLoader {
  const current = getRemoteCodeLoader();
  if (current) return current;
  setRemoteCodeLoader(sandboxRemoteCodeLoader);
  return sandboxRemoteCodeLoader;
}
