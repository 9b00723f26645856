import { describe, expect, it } from 'vitest';
import { type BlockResult } from '../blocks/modular-pipeline-blocks.js';
import { PipelineBlock } from '../compat/pipeline-block.js';
import { SequentialPipelineBlocks } from '../blocks/sequential-pipeline-blocks.js';
import { ComponentSpec } from '../components/component-spec.js';
import { ComponentsManager } from '../components/components-manager.js';
import { FakeModel } from '../components/fake-offloadable.test-helpers.js';
import { ComponentLoaderRegistry } from '../components/loader-registry.js';
import { MemoryBudgetError } from '../components/memory-budget.js';
import { ComponentLoadError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import { OutputParam } from '../params/output-param.js';
import type { PipelineState } from '../state/pipeline-state.js';
import type { PipelineComponents } from './modular-pipeline.js';

/** A leaf block that runs one model and records the order of runs. */
function stepUsing(component: string, log: string[]) {
  return class extends PipelineBlock {
    override get expectedComponents() {
      return [new ComponentSpec(component, 'Fake')];
    }
    override get intermediatesOutputs() {
      return [new OutputParam(`${component}_ran`)];
    }
    override async call(components: PipelineComponents, state: PipelineState): Promise<BlockResult> {
      await (components[component] as FakeModel).run();
      log.push(component);
      const bs = this.getBlockState(state);
      bs[`${component}_ran`] = true;
      this.setBlockState(state, bs);
      return [components, state];
    }
  };
}

const SIZES: Record<string, number> = { text_encoder: 40, unet: 100, vae: 10 };

function setup() {
  const runs: string[] = [];
  const created: FakeModel[] = [];
  const registry = new ComponentLoaderRegistry().register({
    type: 'Fake',
    fromPretrained: async (spec, context) => {
      const model = new FakeModel(SIZES[spec.name]!, (context.options.device as string | undefined) ?? 'cpu');
      created.push(model);
      return model;
    },
  });
  const blocks = () =>
    SequentialPipelineBlocks.fromBlocksDict({
      text_encoder: stepUsing('text_encoder', runs),
      denoise: stepUsing('unet', runs),
      decode: stepUsing('vae', runs),
    });
  const manager = new ComponentsManager(new MemoryLogger());
  const events: string[] = [];
  manager.on((e) => {
    if (e.type === 'offload' || e.type === 'onload') events.push(`${e.type}:${e.name}`);
  });
  return { runs, created, registry, blocks, manager, events };
}

describe('ModularPipeline under a memory budget', () => {
  it('prepares each block, evicting by the stated rule, and every block still runs', async () => {
    const { runs, created, registry, blocks, manager, events } = setup();
    const pipe = blocks().initPipeline('org/toy', { componentsManager: manager, loaderRegistry: registry, logger: new MemoryLogger() });
    await pipe.loadComponents();
    // Sum of sizes 150 > budget 110 >= largest 100.
    await manager.enableAutoOffload({ memoryBudget: 110 });
    expect(events).toEqual(['offload:text_encoder']); // shortfall 40: text_encoder (40) frees exactly that, unet (100) more
    events.length = 0;
    const out = await pipe({ output: ['text_encoder_ran', 'unet_ran', 'vae_ran'] });
    expect(out).toEqual({ text_encoder_ran: true, unet_ran: true, vae_ran: true });
    expect(runs).toEqual(['text_encoder', 'unet', 'vae']);
    expect(events).toEqual([
      'offload:unet', // text_encoder back: shortfall 40, unet is the only single cover (vae 10 is not)
      'onload:text_encoder',
      'offload:text_encoder', // unet back: shortfall 40, text_encoder (40) covers it, vae does not
      'onload:unet',
    ]);
    expect(created.map((m) => m.sessions)).toEqual([2, 2, 1]); // loaded once each; text_encoder and unet re-created once, vae never moved
  });

  it('pins a component with a per-component device and reports it', async () => {
    const { registry, blocks, manager } = setup();
    const pipe = blocks().initPipeline('org/toy', { componentsManager: manager, loaderRegistry: registry, logger: new MemoryLogger() });
    await pipe.loadComponents(null, { device: 'cuda', perComponent: { vae: { device: 'cpu' } } });
    expect(manager.info(manager.idOf(pipe.getComponent('vae'))!)).toMatchObject({ pinnedDevice: 'cpu', device: 'cpu' });
    expect(manager.info(manager.idOf(pipe.getComponent('unet'))!)).toMatchObject({ pinnedDevice: null, device: 'cuda' });
    expect(manager.summary()).toContain('cpu (pinned cpu)');
  });

  it('fails a too-small budget before any model runs: at enable, at load and at run', async () => {
    const { runs, created, registry, blocks, manager } = setup();
    const pipe = blocks().initPipeline('org/toy', { componentsManager: manager, loaderRegistry: registry, logger: new MemoryLogger() });
    await pipe.loadComponents();
    await expect(manager.enableAutoOffload({ memoryBudget: 99 })).rejects.toThrow(MemoryBudgetError);

    // Enabled before loading, the UNet is refused at load time and its session freed.
    const { registry: registry2, blocks: blocks2, manager: manager2, created: created2 } = setup();
    await manager2.enableAutoOffload({ memoryBudget: 99 });
    const pipe2 = blocks2().initPipeline('org/toy', { componentsManager: manager2, loaderRegistry: registry2, logger: new MemoryLogger() });
    const error = await pipe2.loadComponents().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComponentLoadError);
    expect((error as ComponentLoadError).cause).toBeInstanceOf(MemoryBudgetError);
    expect(pipe2.getComponent('unet')).toBeNull();
    expect(created2.find((m) => m.sizeBytes === 100)!.isResident).toBe(false);

    // A component that grew past the budget after it was added (a VAE opening its encoder) fails the run before any block.
    await manager.enableAutoOffload({ memoryBudget: 100 });
    (created.find((m) => m.sizeBytes === 10) as { sizeBytes: number }).sizeBytes = 101;
    await expect(pipe({})).rejects.toThrow(/smaller than 'vae_3'/);
    expect(runs).toEqual([]);
    expect(created.reduce((n, m) => n + m.runs, 0)).toBe(0);
  });
});

describe('pipeline.to(device)', () => {
  it("moves every model component's sessions to the device and resolves to the callable pipeline", async () => {
    const { created, registry, blocks } = setup();
    let pipe = blocks().initPipeline('org/toy', { loaderRegistry: registry, logger: new MemoryLogger() });
    await pipe.loadComponents();
    expect(created.map((m) => m.provider)).toEqual(['cpu', 'cpu', 'cpu']);
    pipe = await pipe.to('webgpu');
    expect(created.map((m) => [m.provider, m.isResident])).toEqual([
      ['webgpu', true],
      ['webgpu', true],
      ['webgpu', true],
    ]);
    // Still callable, as the guide's `dd_pipeline = dd_pipeline.to(device)` then `dd_pipeline(...)`.
    expect(await pipe({ output: 'vae_ran' })).toBe(true);
    await expect(pipe.to('tpu')).rejects.toThrow(/pipeline.to: device must be one of cpu, cuda, webgpu, auto/);
  });
});
