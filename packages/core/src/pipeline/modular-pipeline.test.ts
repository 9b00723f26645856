import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import { AddStep, AutoZ, MulStep } from '../blocks/test-blocks.test-helpers.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ComponentsManager } from '../components/components-manager.js';
import { getLoadId } from '../components/load-id.js';
import { ComponentLoaderRegistry } from '../components/loader-registry.js';
import type { RepoResolver } from '../components/repo-resolver.js';
import {
  BlockDefinitionError,
  ComponentLoadError,
  HubNotInstalledError,
  InvalidArgumentError,
  NotFoundError,
  PipelineAbortedError,
  UndeclaredStateKeyError,
  UnexpectedInputError,
} from '../errors.js';
import { setPretrainedHooks } from '../hub/pretrained-hooks.js';
import { MemoryLogger } from '../logger.js';
import { InputParam } from '../params/input-param.js';
import { OutputParam } from '../params/output-param.js';
import { ModularPipelineBlocks } from '../blocks/modular-pipeline-blocks.js';
import { PipelineState } from '../state/pipeline-state.js';
import { ModularPipeline, type PipelineComponents } from './modular-pipeline.js';
import { registerPipelineClass } from './pipeline-classes.js';
import { PipelineLoader } from './pipeline-loader.js';

class Adder {
  constructor(readonly config: Record<string, unknown> = {}) {}
}
class Scaler {
  constructor(readonly config: { k: number } = { k: 1 }) {}
}

/** z = (x + offset) * factor * scaler.config.k: uses a fromPretrained and a fromConfig component. */
class ScaleStep extends PipelineBlock {
  override get expectedComponents() {
    return [new ComponentSpec('scaler', 'Scaler', { config: { k: 1 }, defaultCreationMethod: 'fromConfig' })];
  }
  override get intermediatesInputs() {
    return [new InputParam('z', { required: true })];
  }
  override get intermediatesOutputs() {
    return [new OutputParam('scaled')];
  }
  override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
    const bs = this.getBlockState<{ z: number; scaled?: number }>(state);
    bs.scaled = bs.z * components.getComponent<Scaler>('scaler').config.k * (components.config.scale_output ? 10 : 1);
    this.setBlockState(state, bs);
    return [components, state];
  }
}

function registry(loads: string[] = []) {
  return new ComponentLoaderRegistry()
    .register({
      type: 'Adder',
      fromPretrained: async (spec, context) => {
        loads.push(spec.loadId);
        if (context.options.fail) throw new Error('disk on fire');
        return new Adder({ loadedFrom: spec.loadId, ...context.options });
      },
    })
    .register({ type: 'Scaler', fromConfig: (config) => new Scaler({ k: Number(config.k ?? 1) }) });
}

const blocks = () => SequentialPipelineBlocks.fromBlocksDict({ add: AddStep, mul: MulStep, scale: ScaleStep });

describe('ModularPipeline', () => {
  afterEach(() => setPretrainedHooks(null));

  it('is callable, an instance of ModularPipeline, with components and configs as properties', async () => {
    const pipe = blocks().initPipeline('org/toy', { loaderRegistry: registry() });
    expect(pipe).toBeInstanceOf(ModularPipeline);
    expect(typeof pipe).toBe('function');
    expect(pipe.componentNames).toEqual(['adder', 'scaler']);
    expect(pipe.getComponent('scaler')).toBeInstanceOf(Scaler); // fromConfig: created at init
    expect(pipe.getComponent('adder')).toBeNull(); // fromPretrained: loaded later
    expect(pipe.nullComponentNames).toEqual(['adder']);
    expect(pipe.pretrainedComponentNames).toEqual(['adder']);
    expect(pipe.configComponentNames).toEqual(['scaler']);
    expect(pipe.config).toEqual({ scale_output: false });
    expect(pipe.getComponentSpec('adder').loadId).toBe('org/toy|adder|null|null'); // standard layout until an index says otherwise
    expect(() => pipe.getComponentSpec('nope')).toThrow(NotFoundError);
    expect(pipe.defaultCallParameters).toEqual({ x: undefined, offset: 1, factor: 2 });
    expect(pipe.doc).toBe(pipe.blocks.doc);
  });

  it('runs with run() and as a function, selecting outputs', async () => {
    const pipe = blocks().initPipeline({ loaderRegistry: registry() });
    // (3 + 1) * 2 = 8, scaled by k = 1
    expect(await pipe.run({ x: 3, output: 'scaled' })).toBe(8);
    expect(await pipe({ x: 3, factor: 5, output: ['y', 'z'] })).toEqual({ y: 4, z: 20 });
    const state = await pipe({ x: 3 });
    expect(state).toBeInstanceOf(PipelineState);
    expect(state.keys()).toEqual(['x', 'offset', 'factor', 'y', 'z', 'scaled']);
    await expect(pipe({ x: 3, output: 'imagse' })).rejects.toThrow(/Output 'imagse' is not in the pipeline state/);
    await expect(pipe({ x: 3, output: 7 as never })).rejects.toThrow(InvalidArgumentError);
    // Continue from a state: its values count as given.
    expect(await pipe({ state, factor: 10, output: 'z' })).toBe(40);
    expect(state.get('z')).toBe(8);
  });

  it('warns about unexpected inputs, or throws in strict mode', async () => {
    const logger = new MemoryLogger();
    const pipe = blocks().initPipeline({ loaderRegistry: registry(), logger });
    await pipe({ x: 1, diffdiff_map: [1] });
    expect(logger.of('warn')).toEqual([
      "Unexpected input 'diffdiff_map' for ModularPipeline (SequentialPipelineBlocks): no block declares it, so it would be ignored. Check the spelling against pipeline.doc, or add InputParam(...) to the block that should use it.",
    ]);
    await expect(pipe({ x: 1, diffdiff_map: [1] }, { strict: true })).rejects.toThrow(UnexpectedInputError);
    const strict = blocks().initPipeline({ loaderRegistry: registry(), strict: true });
    await expect(strict({ x: 1, typo: 1 })).rejects.toThrow(UnexpectedInputError);
  });

  it('strict runs catch undeclared block-state reads', async () => {
    class Sloppy extends PipelineBlock {
      override get inputs() {
        return [new InputParam('x')];
      }
      override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
        const bs = this.getBlockState(state);
        void bs.not_declared;
        return [components, state];
      }
    }
    const pipe = new Sloppy().initPipeline({ strict: true });
    await expect(pipe({ x: 1 })).rejects.toThrow(UndeclaredStateKeyError);
    await expect(pipe({ x: 1 }, { strict: false })).resolves.toBeInstanceOf(PipelineState);
  });

  it('passes a dict under a kwargs-type name as tagged values', async () => {
    class Collect extends PipelineBlock {
      override get inputs() {
        return [new InputParam({ kwargsType: 'denoiser_input_fields' })];
      }
      override get intermediatesOutputs() {
        return [new OutputParam('seen')];
      }
      override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
        const bs = this.getBlockState(state);
        bs.seen = bs.denoiser_input_fields;
        this.setBlockState(state, bs);
        return [components, state];
      }
    }
    const pipe = new Collect().initPipeline();
    expect(await pipe({ denoiser_input_fields: { prompt_embeds: 1, add_time_ids: 2 }, output: 'seen' })).toEqual({ prompt_embeds: 1, add_time_ids: 2 });
  });

  it('loads from-pretrained components, with options, per-component options and a report', async () => {
    const loads: string[] = [];
    const pipe = blocks().initPipeline('org/toy', { loaderRegistry: registry(loads) });
    const report = await pipe.loadComponents(null, { dtype: 'float16', perComponent: { adder: { device: 'cpu' } } });
    expect(report).toEqual({ loaded: ['adder'], reused: [], skipped: [], failed: [] });
    const adder = pipe.getComponent<Adder>('adder');
    expect(adder.config).toEqual({ loadedFrom: 'org/toy|adder|null|null', dtype: 'float16', device: 'cpu' });
    expect(getLoadId(adder)).toBe('org/toy|adder|null|null');
    expect((await pipe.loadComponents()).loaded).toEqual([]); // nothing left to load
    await pipe.loadComponents('adder', { variant: 'fp16' });
    expect(pipe.getComponentSpec('adder').loadId).toBe('org/toy|adder|fp16|null');
    expect(loads).toEqual(['org/toy|adder|null|null', 'org/toy|adder|fp16|null']);
    await expect(pipe.loadComponents(42 as never)).rejects.toThrow(/Invalid type for names/);
  });

  it("takes options alone, as the guide's load_components(torch_dtype=...) does", async () => {
    const loads: string[] = [];
    const pipe = blocks().initPipeline('org/toy', { loaderRegistry: registry(loads) });
    expect((await pipe.loadComponents({ dtype: 'float16' })).loaded).toEqual(['adder']);
    expect(pipe.getComponent<Adder>('adder').config).toMatchObject({ dtype: 'float16' });
  });

  it('skips components without a repo, aggregates failures, and honours the abort signal', async () => {
    const logger = new MemoryLogger();
    const noRepo = blocks().initPipeline({ loaderRegistry: registry(), logger });
    const report = await noRepo.loadComponents();
    expect(report.skipped.map((s) => s.name)).toEqual(['adder']);
    await noRepo.loadComponents(['adder', 'ghost']);
    expect(logger.of('warn').join('\n')).toMatch(/unknown components ignored: ghost/);

    const failing = blocks().initPipeline('org/toy', { loaderRegistry: registry(), logger });
    const error = await failing.loadComponents(null, { loaderOptions: { fail: true } }).catch((e) => e);
    expect(error).toBeInstanceOf(ComponentLoadError);
    expect(error.message).toBe("Failed to load 1 component(s): 'adder': disk on fire");
    expect((await failing.loadComponents(null, { loaderOptions: { fail: true }, onError: 'warn' })).failed.map((f) => f.name)).toEqual(['adder']);

    const controller = new AbortController();
    controller.abort();
    await expect(failing.loadComponents(null, { signal: controller.signal })).rejects.toThrow(PipelineAbortedError);
  });

  it('names components that failed for the same reason together, so a remedy is printed once', async () => {
    class TwoAdders extends PipelineBlock {
      override get expectedComponents() {
        return [new ComponentSpec('adder', 'Adder'), new ComponentSpec('adder_2', 'Adder')];
      }
      override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
        return [components, state];
      }
    }
    const pipe = new TwoAdders().initPipeline('org/toy', { loaderRegistry: registry(), logger: new MemoryLogger() });
    const error = await pipe.loadComponents({ loaderOptions: { fail: true } }).catch((e) => e);
    expect(error.message).toBe("Failed to load 2 component(s): 'adder', 'adder_2': disk on fire");
    expect(error.failures).toHaveLength(2);
  });

  it('shares components between pipelines on one ComponentsManager by load id', async () => {
    const loads: string[] = [];
    const manager = new ComponentsManager(new MemoryLogger());
    const a = blocks().initPipeline('org/toy', { componentsManager: manager, collection: 'a', loaderRegistry: registry(loads) });
    const b = blocks().initPipeline('org/toy', { componentsManager: manager, collection: 'b', loaderRegistry: registry(loads) });
    await a.loadComponents();
    const report = await b.loadComponents();
    expect(report.reused).toEqual(['adder']);
    expect(loads).toEqual(['org/toy|adder|null|null']);
    expect(b.getComponent('adder')).toBe(a.getComponent('adder'));
    expect(manager.ids()).toEqual(['adder_1']);
    expect(manager.info('adder_1').collections).toEqual(['a', 'b']);
    expect(manager.ids().some((id) => id.startsWith('scaler'))).toBe(false); // from-config components are not registered

    const events: string[] = [];
    manager.on((e) => events.push(`${e.type}:${e.name}`));
    void Reflect.get(a, 'adder');
    expect(events).toEqual(['beforeUse:adder']);

    a.unloadComponents('adder');
    expect(a.getComponent('adder')).toBeNull();
    expect(manager.info('adder_1').collections).toEqual(['b']);
    b.unloadComponents(['adder', 'ghost']);
    expect(manager.size).toBe(0);
    expect(() => b.unloadComponents(3 as never)).toThrow(/Invalid type for names/);
  });

  it('updates components and configs, rewriting specs to describe the new objects', async () => {
    const logger = new MemoryLogger();
    const pipe = blocks().initPipeline('org/toy', { loaderRegistry: registry(), logger });
    await pipe.loadComponents();
    pipe.updateComponents({ scaler: new ComponentSpec('scaler', 'Scaler', { config: { k: 3 }, defaultCreationMethod: 'fromConfig' }) });
    expect(await pipe({ x: 1, output: 'scaled' })).toBe(12); // (1 + 1) * 2 * 3
    pipe.updateComponents({ scale_output: true, nonsense: 1 });
    expect(pipe.config.scale_output).toBe(true);
    expect(await pipe({ x: 1, output: 'scaled' })).toBe(120);
    expect(logger.of('warn').join('\n')).toMatch(/'nonsense' is neither a component nor a config/);

    const other = new Adder({ hand: 'made' });
    Reflect.set(pipe, 'adder', other); // the property setter goes through updateComponents
    expect(pipe.getComponent('adder')).toBe(other);
    // No load id in a from-pretrained slot: it stays from-pretrained with no source, as in diffusers'
    // update_components, so a save keeps its index entry (TestCustomModelSavePretrained).
    expect(pipe.getComponentSpec('adder').defaultCreationMethod).toBe('fromPretrained');
    expect(pipe.getComponentSpec('adder').pretrainedModelNameOrPath).toBeNull();
    expect(pipe.toModelIndex().adder).toEqual([pipe.getComponentSpec('adder').library, 'Adder', expect.objectContaining({ pretrained_model_name_or_path: null })]);
    expect(() => pipe.updateComponents({ scaler: new ComponentSpec('scaler', 'Scaler') })).toThrow(/got a fromPretrained ComponentSpec/);
    pipe.updateComponents({ adder: null });
    expect(pipe.getComponent('adder')).toBeNull();
  });

  it('reads the model index: given at init, or lazily from the repo resolver before loading', async () => {
    const index = {
      _class_name: 'ModularPipeline',
      _blocks_class_name: 'SequentialPipelineBlocks',
      scale_output: true,
      adder: [null, null, { pretrained_model_name_or_path: 'org/adders', subfolder: 'v2', revision: null, variant: null, type_hint: ['mylib', 'Adder'] }],
      unknown_component: [null, null, { pretrained_model_name_or_path: 'x' }],
    };
    const given = blocks().initPipeline('org/toy', { loaderRegistry: registry(), modelIndex: index });
    expect(given.getComponentSpec('adder').loadId).toBe('org/adders|v2|null|null');
    expect(given.config.scale_output).toBe(true);
    expect(given.modelIndexInfo?.className).toBe('ModularPipeline');

    const reads: string[] = [];
    const resolver: RepoResolver = {
      resolve: async () => {
        throw new Error('not used');
      },
      readModelIndex: async (repo) => {
        reads.push(repo);
        return index;
      },
    };
    const lazy = blocks().initPipeline('org/toy', { loaderRegistry: registry(), repoResolver: resolver });
    expect(lazy.getComponentSpec('adder').loadId).toBe('org/toy|adder|null|null');
    await lazy.loadComponents();
    await lazy.loadComponents();
    expect(reads).toEqual(['org/toy']);
    expect(lazy.getComponentSpec('adder').loadId).toBe('org/adders|v2|null|null');
    expect(lazy.getComponent<Adder>('adder').config.loadedFrom).toBe('org/adders|v2|null|null');
    const saved = lazy.toModelIndex();
    expect(saved.adder).toEqual([
      'mylib',
      'Adder',
      { pretrained_model_name_or_path: 'org/adders', revision: null, subfolder: 'v2', type_hint: ['mylib', 'Adder'], variant: null },
    ]);
    expect(String(lazy).startsWith('ModularPipeline {\n  "_blocks_class_name": "SequentialPipelineBlocks"')).toBe(true);
    // console.log goes through util.inspect, which looks at the callable proxy's target.
    expect(inspect(lazy)).toBe(String(lazy));
    expect(inspect(lazy.blocks)).toBe(lazy.blocks.toString());
  });

  it('exposes the loading methods on an extensible loader', async () => {
    class ToyLoader extends PipelineLoader {
      scale = 0;
      setScale(value: number) {
        this.scale = value;
      }
    }
    class ToyPipeline extends ModularPipeline {
      protected override createLoader(): ToyLoader {
        return new ToyLoader(this);
      }
      override get loader(): ToyLoader {
        return super.loader as ToyLoader;
      }
    }
    class ToyModelStep extends AddStep {
      static override modelName = 'toy-model-with-loader';
    }
    registerPipelineClass('toy-model-with-loader', ToyPipeline);
    const pipe = new ToyModelStep().initPipeline('org/toy', { loaderRegistry: registry() }) as unknown as ToyPipeline;
    expect(pipe).toBeInstanceOf(ToyPipeline);
    expect(pipe.loader).toBe(pipe.loader);
    const report = await pipe.loader.load();
    expect(report.loaded).toEqual(['adder']);
    pipe.loader.setScale(0.6);
    expect(pipe.loader.scale).toBe(0.6);
    pipe.loader.unloadComponents('adder');
    expect(pipe.loader.components.adder).toBeNull();
  });

  it('rejects component names that clash with pipeline members', () => {
    class Clash extends PipelineBlock {
      override get expectedComponents() {
        return [new ComponentSpec('loader', 'Adder')];
      }
    }
    expect(() => new Clash().initPipeline()).toThrow(BlockDefinitionError);
  });

  it('delegates fromPretrained to the hub hooks, or says to call installHub()', async () => {
    await expect(ModularPipeline.fromPretrained('org/repo')).rejects.toThrow(HubNotInstalledError);
    await expect(ModularPipelineBlocks.fromPretrained('org/repo')).rejects.toThrow(/import { installHub } from '@modular-diffusers\/hub'; installHub\(\);/);
    const calls: unknown[] = [];
    setPretrainedHooks({
      blocksFromPretrained: async (repo, options) => {
        calls.push(['blocks', repo, options.trustRemoteCode]);
        return new AutoZ();
      },
      pipelineFromPretrained: async (repo, options) => {
        calls.push(['pipeline', repo, options.collection]);
        return new AutoZ().initPipeline(repo);
      },
    });
    expect(await ModularPipelineBlocks.fromPretrained('org/blocks', { trustRemoteCode: true })).toBeInstanceOf(AutoZ);
    const pipe = await ModularPipeline.fromPretrained('org/pipe', { collection: 'c' });
    expect(pipe.pretrainedModelNameOrPath).toBe('org/pipe');
    expect(calls).toEqual([
      ['blocks', 'org/blocks', true],
      ['pipeline', 'org/pipe', 'c'],
    ]);
  });
});
