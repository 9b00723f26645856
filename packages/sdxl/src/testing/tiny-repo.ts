/**
 * Test fixture for SDXL blocks and plugins built on them: a tiny SDXL repo in a temp folder, and
 * pipelines loaded from it through the local-folder resolver. `@modular-diffusers/sdxl/testing`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentLoaderRegistry, silentLogger, type InitPipelineOptions, type ModularPipelineBlocks } from '@modular-diffusers/core';
import { generateTinySdxlRepo, type TinySdxlRepoOptions } from '@modular-diffusers/runtime';
import { LocalFolderRepoResolver } from '../components/local-folder-resolver.js';
import { registerSdxlComponentLoaders } from '../components/register-loaders.js';

export interface TinyRepoFixture {
  /** The repo folder. */
  dir: string;
  /** A scratch folder beside it for inputs and outputs (PNGs). */
  outDir: string;
  resolver: LocalFolderRepoResolver;
  /** A registry holding the SDXL loaders (not the global one). */
  registry: ComponentLoaderRegistry;
  /** initPipeline(dir) + loadComponents() with this fixture's resolver and registry. */
  pipeline(blocks: ModularPipelineBlocks, options?: InitPipelineOptions): Promise<any>;
  dispose(): Promise<void>;
}

export async function createTinyRepo(options: TinySdxlRepoOptions = {}): Promise<TinyRepoFixture> {
  const base = await mkdtemp(join(tmpdir(), 'sdxl-test-'));
  const dir = join(base, 'repo');
  await generateTinySdxlRepo(dir, options);
  const resolver = new LocalFolderRepoResolver();
  const registry = registerSdxlComponentLoaders(new ComponentLoaderRegistry());
  const loaded: any[] = [];
  return {
    dir,
    outDir: base,
    resolver,
    registry,
    async pipeline(blocks, init = {}) {
      const pipe = blocks.initPipeline(dir, { repoResolver: resolver, loaderRegistry: registry, logger: silentLogger, ...init });
      await pipe.loadComponents();
      loaded.push(pipe);
      return pipe;
    },
    async dispose() {
      for (const pipe of loaded) await releaseComponents(pipe);
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Closes the ONNX sessions a pipeline holds. */
export async function releaseComponents(pipe: { components: Record<string, unknown> }): Promise<void> {
  for (const component of Object.values(pipe.components)) {
    const release = (component as { release?: () => Promise<void> } | null)?.release;
    if (typeof release === 'function') await release.call(component);
  }
}
