import { describe, expect, it } from 'vitest';
import { PipelineBlock, type BlockResult } from '../blocks/modular-pipeline-blocks.js';
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
