import { describe, expect, it } from 'vitest';
import { ComponentSpec } from '../components/component-spec.js';
import { ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { RepoResolver } from '../components/repo-resolver.js';
import { MemoryLogger } from '../logger.js';
import { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { ComponentLoadService } from './component-loading.js';
import { PipelineComponentStore } from './pipeline-component-store.js';

class Model {
  constructor(readonly from: string) {}
}

class TwoModels extends ModularPipelineBlocks {
  override get expectedComponents() {
    return [new ComponentSpec('a', Model), new ComponentSpec('b', Model)];
  }
}

const registry = () =>
  new ComponentLoaderRegistry().register({ type: 'Model', fromPretrained: async (spec) => new Model(`${spec.pretrainedModelNameOrPath}/${spec.subfolder}`) });

const resolver: RepoResolver = { resolve: async () => ({ path: '/nowhere', files: [] }) } as unknown as RepoResolver;

function store(logger = new MemoryLogger()) {
  return new PipelineComponentStore({ componentsManager: null, collection: null, loaderRegistry: registry(), logger }, new TwoModels(), 'me/repo', null);
}

describe('PipelineComponentStore and ComponentLoadService (the components object and the loader service of a pipeline)', () => {
  it('assumes <repo>/<name> before a model index is read, and tells listeners what changed on update, unload and load', async () => {
    const components = store();
    expect(components.getSpec('a')).toMatchObject({ pretrainedModelNameOrPath: 'me/repo', subfolder: 'a' });
    const changes: string[][] = [];
    components.onChange((names) => changes.push([...names]));
    components.update({ a: new Model('hand') });
    components.unload(['a', 'b']);
    const loading = new ComponentLoadService(components, new TwoModels(), 'me/repo', resolver, {}, true);
    const report = await loading.load('b');
    expect(report.loaded).toEqual(['b']);
    expect((components.values.get('b') as Model).from).toBe('me/repo/b');
    expect(changes).toEqual([['a'], ['a', 'b'], ['b']]);
  });

  it('refuses a component that would shadow a member of its host, naming the block to fix', () => {
    const components = store();
    expect(() => components.defineProperties({ a: 1 })).toThrow(/clashes with a ModularPipeline member/);
  });
});
