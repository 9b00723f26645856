import { describe, expect, it } from 'vitest';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { RepoLocation, RepoResolver } from '../components/repo-resolver.js';
import { ComponentLoadError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import type { PipelineComponents } from './modular-pipeline.js';
import type { PipelineState } from '../state/pipeline-state.js';

class Uses extends PipelineBlock {
  override get expectedComponents() {
    return [new ComponentSpec('unet', 'Part'), new ComponentSpec('controlnet', 'Part'), new ComponentSpec('image_encoder', 'Part')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    return [components, state];
  }
}

/** A repo whose folders are `folders`, with a standard model_index.json when `index` is given. */
function repoResolver(folders: string[], index: Record<string, unknown> | null, asked: string[] = []): RepoResolver {
  return {
    async resolve(location: RepoLocation) {
      if (!folders.includes(location.subfolder ?? '')) throw new Error(`no folder '${location.subfolder}'`);
      return { ...location, path: `/repo/${location.subfolder}` };
    },
    async exists(location: RepoLocation) {
      asked.push(location.subfolder ?? '');
      return folders.includes(location.subfolder ?? '');
    },
    async readModelIndex() {
      return index;
    },
  };
}

const registry = () =>
  new ComponentLoaderRegistry().register({ type: 'Part', fromPretrained: async (spec, context) => ({ from: (await context.resolve()).subfolder }) });
const blocks = () => SequentialPipelineBlocks.fromBlocksDict({ uses: Uses });

describe('components the repo does not have', () => {
  it("are skipped, not failed, when no index gives them a source and the repo has no folder for them (diffusers loads what the index lists)", async () => {
    const asked: string[] = [];
    const logger = new MemoryLogger();
    const index = { _class_name: 'X', unet: ['diffusers', 'Part'], image_encoder: [null, null] };
    const pipe: any = blocks().initPipeline('org/repo', { repoResolver: repoResolver(['unet'], index, asked), loaderRegistry: registry(), logger });
    const report = await pipe.loadComponents();
    expect(report.loaded).toEqual(['unet']);
    expect(report.failed).toEqual([]);
    expect(report.skipped.map((s: { name: string }) => s.name)).toEqual(['controlnet', 'image_encoder']);
    expect(report.skipped[0].reason).toMatch(/the repo has no 'controlnet\/' folder; load it with \{ perComponent: \{ controlnet: \{ repo \} \} \}/);
    expect(asked).toEqual(['controlnet', 'image_encoder']); // the listed unet is not asked about
    expect([pipe.controlnet, pipe.image_encoder]).toEqual([null, null]);
  });

  it('load from the assumed <repo>/<name> folder when it is there, even unlisted', async () => {
    const pipe: any = blocks().initPipeline('org/repo', { repoResolver: repoResolver(['unet', 'controlnet'], null), loaderRegistry: registry(), logger: new MemoryLogger() });
    const report = await pipe.loadComponents();
    expect(report.loaded.sort()).toEqual(['controlnet', 'unet']);
    expect(pipe.controlnet).toEqual({ from: 'controlnet' });
  });

  it('still fail when asked for by name, or when the index lists them', async () => {
    const byName: any = blocks().initPipeline('org/repo', { repoResolver: repoResolver(['unet'], null), loaderRegistry: registry(), logger: new MemoryLogger() });
    await expect(byName.loadComponents(['controlnet'])).rejects.toThrow(ComponentLoadError);
    const listed: any = blocks().initPipeline('org/repo', {
      repoResolver: repoResolver(['unet'], { _class_name: 'X', unet: ['diffusers', 'Part'], controlnet: ['diffusers', 'Part'] }),
      loaderRegistry: registry(),
      logger: new MemoryLogger(),
    });
    await expect(listed.loadComponents()).rejects.toThrow(/'controlnet': no folder 'controlnet'/);
  });
});

describe("loadComponents('controlnet', { repo }) for a model repo published on its own", () => {
  /** Folders per repo ('' is the repo root). */
  const repos = (layout: Record<string, string[]>): RepoResolver => ({
    async resolve(location: RepoLocation) {
      const sub = location.subfolder ?? '';
      if (!(layout[location.repo] ?? []).includes(sub)) throw new Error(`no folder '${sub}' in ${location.repo}`);
      return { ...location, path: `/${location.repo}/${sub}` };
    },
    async exists(location: RepoLocation) {
      return (layout[location.repo] ?? []).includes(location.subfolder ?? '');
    },
    async readModelIndex() {
      return null;
    },
  });
  const loader = () =>
    new ComponentLoaderRegistry().register({ type: 'Part', fromPretrained: async (spec, context) => ({ repo: spec.pretrainedModelNameOrPath, from: (await context.resolve()).subfolder ?? '' }) });
  const init = (layout: Record<string, string[]>): any =>
    blocks().initPipeline('org/sdxl', { repoResolver: repos(layout), loaderRegistry: loader(), logger: new MemoryLogger() });

  it('reads it from the root when the repo has no controlnet/ folder (diffusers/controlnet-canny-sdxl-1.0 keeps config.json there)', async () => {
    const pipe = init({ 'org/sdxl': ['unet'], 'diffusers/controlnet-canny-sdxl-1.0': [''] });
    await pipe.loadComponents('controlnet', { repo: 'diffusers/controlnet-canny-sdxl-1.0' });
    expect(pipe.controlnet).toEqual({ repo: 'diffusers/controlnet-canny-sdxl-1.0', from: '' });
  });

  it("keeps the <name>/ folder when the named repo has one, and a subfolder the caller gives", async () => {
    const pipe = init({ 'org/sdxl': ['unet'], 'org/other-sdxl': ['', 'controlnet', 'cn'] });
    await pipe.loadComponents('controlnet', { repo: 'org/other-sdxl' });
    expect(pipe.controlnet).toEqual({ repo: 'org/other-sdxl', from: 'controlnet' });
    await pipe.loadComponents('controlnet', { repo: 'org/other-sdxl', subfolder: 'cn' });
    expect(pipe.controlnet).toEqual({ repo: 'org/other-sdxl', from: 'cn' });
  });
});
