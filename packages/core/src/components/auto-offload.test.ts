import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import { ComponentsManager, type ComponentsManagerEvent } from './components-manager.js';
import { MemoryBudgetError } from './memory-budget.js';
import { FakeModel } from './fake-offloadable.test-helpers.js';

function setup(sizes: Record<string, number>) {
  const logger = new MemoryLogger();
  const manager = new ComponentsManager(logger);
  const models: Record<string, FakeModel> = {};
  for (const [name, size] of Object.entries(sizes)) {
    models[name] = new FakeModel(size);
    manager.add(name, models[name]);
  }
  const events: string[] = [];
  manager.on((e: ComponentsManagerEvent) => {
    if (e.type === 'offload' || e.type === 'onload') events.push(`${e.type}:${e.name}`);
  });
  return { manager, models, events, logger };
}

describe('ComponentsManager auto offload', () => {
  it('rejects a budget smaller than the largest component up front, naming it and the smallest budget that works', async () => {
    const { manager, models, events } = setup({ te: 40, unet: 100, vae: 10 });
    const error = await manager.enableAutoOffload({ memoryBudget: 99 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryBudgetError);
    expect((error as MemoryBudgetError).tooLarge).toEqual([{ id: 'unet_2', sizeBytes: 100 }]);
    expect((error as Error).message).toMatch(/smaller than 'unet_2' \(100 B \(100 bytes\)\).*at least 100 B.*perComponent: \{ unet: \{ device: 'cpu' \} \}/);
    expect(manager.autoOffload).toBeNull();
    expect(events).toEqual([]);
    expect(Object.values(models).every((m) => m.isResident && !m.hooked)).toBe(true);
    await expect(manager.enableAutoOffload({ memoryBudget: '1 parsec' })).rejects.toThrow(InvalidArgumentError);
    await expect(manager.enableAutoOffload({ memoryBudget: 100, device: 'tpu' })).rejects.toThrow(/device must be one of cpu, cuda, webgpu, auto/);
  });

  // diffusers components_manager.py (58eb52c) AutoOffloadStrategy.search_best_candidate: when no combination frees
  // enough memory it warns and offloads every model, then carries on. Here that is a choice, never the default.
  it("with overBudget: 'offloadAll' a component larger than the budget runs anyway, every other one offloaded, as diffusers does", async () => {
    const { manager, models, events, logger } = setup({ te: 40, unet: 100, vae: 10 });
    await manager.enableAutoOffload({ memoryBudget: 99, device: 'cpu', overBudget: 'offloadAll' });
    expect(manager.autoOffload).toEqual({ device: 'cpu', memoryBudgetBytes: 99, overBudget: 'offloadAll' });
    expect(logger.of('warn').join('\n')).toMatch(/'unet_2' \(100 B \(100 bytes\)\) is larger than the memory budget.*overBudget: 'offloadAll'.*at least 100 B/);
    events.length = 0;
    await manager.prepareForBlock([models.unet], "block 'denoise'");
    await models.unet!.run();
    expect(models.unet!.isResident).toBe(true);
    expect([models.te!.isResident, models.vae!.isResident]).toEqual([false, false]);
    expect(models.unet!.runs).toBe(1);
    expect(() => manager.checkMemoryBudget()).not.toThrow();
    await expect(manager.enableAutoOffload({ memoryBudget: 99, overBudget: 'ignore' as never })).rejects.toThrow(/overBudget must be 'throw' or 'offloadAll'/);
  });

  it('refuses to add a component larger than the budget once auto offload is on', async () => {
    const { manager } = setup({ te: 40 });
    await manager.enableAutoOffload({ memoryBudget: '50B' });
    expect(() => manager.add('unet', new FakeModel(60))).toThrow(MemoryBudgetError);
    expect(manager.ids()).toEqual(['te_1']);
    expect(() => manager.add('unet', new FakeModel(60), { device: 'cuda' })).not.toThrow(); // pinned elsewhere: not counted
  });

  it('fits what is resident at enable time, then evicts by the rule before each block, keeping what the block needs', async () => {
    // Sum 150 > budget 120; largest 100 fits.
    const { manager, models, events } = setup({ te: 40, unet: 100, vae: 10 });
    await manager.enableAutoOffload({ memoryBudget: 120, device: 'cpu' });
    // Resident 150, shortfall 30: one eviction covers it with te (40) or unet (100); the smaller total is te.
    expect(events).toEqual(['offload:te']);
    events.length = 0;

    const { te, unet, vae } = models as Record<string, FakeModel>;
    await manager.prepareForBlock([te], "block 'text_encoder'");
    expect(events).toEqual([]); // a hooked component comes back when it runs, not when a block declares it
    await te!.run();
    // te back (40): resident unet 100 + vae 10 + 40 = 150, shortfall 30; te is kept, unet (100) is the only single cover.
    expect(events).toEqual(['offload:unet', 'onload:te']);
    await manager.prepareForBlock([unet]);
    await unet!.run();
    // unet (100): resident te 40 + vae 10 + 100 = 150, shortfall 30: te alone covers it, vae (10) does not.
    expect(events.slice(2)).toEqual(['offload:te', 'onload:unet']);
    await manager.prepareForBlock([vae]);
    await vae!.run();
    expect(events.slice(4)).toEqual([]); // already resident: nothing moves
    expect([te!.isResident, unet!.isResident, vae!.isResident]).toEqual([false, true, true]);
    expect(te!.sessions).toBe(2); // created at load, re-created once
  });

  it('evicts a block member only when the others cannot free enough, and warns that the block thrashes', async () => {
    const { manager, models, events, logger } = setup({ a: 60, b: 60, c: 10 });
    await manager.enableAutoOffload({ memoryBudget: 100 }); // resident 130: evicts a (the older of a and b, same size)
    expect(events).toEqual(['offload:a']);
    await manager.prepareForBlock([models.a, models.b], "block 'both'");
    await models.a!.run();
    await models.b!.run();
    // a back: resident b 60 + c 10 + a 60 = 130; c alone frees 10 < 30, so b (a block member) goes.
    expect(events.slice(1)).toEqual(['offload:b', 'onload:a', 'offload:a', 'onload:b']);
    expect(logger.of('warn').some((m) => /block 'both' uses a_1, b_2 .*more than the memory budget/.test(m))).toBe(true);
  });

  it('makes room through the residency hook when a component runs outside any block', async () => {
    const { manager, models, events } = setup({ te: 40, unet: 100 });
    await manager.enableAutoOffload({ memoryBudget: '100B' });
    expect(events).toEqual(['offload:te']);
    await models.te!.run();
    expect(events).toEqual(['offload:te', 'offload:unet', 'onload:te']);
    await models.te!.run(); // resident: the hook only records the use
    expect(events).toHaveLength(3);
    manager.disableAutoOffload();
    expect(models.te!.hooked).toBe(false);
    await models.unet!.run(); // no budget any more: the component brings itself back
    expect(models.unet!.isResident && models.te!.isResident).toBe(true);
  });

  it('keeps pinned components on their device, outside the budget, and shows pins, states and the budget in the summary', async () => {
    const logger = new MemoryLogger();
    const manager = new ComponentsManager(logger);
    const unet = new FakeModel(3 * 1024 * 1024, 'cuda');
    const vae = new FakeModel(2 * 1024 * 1024, 'cpu');
    const te = new FakeModel(1024 * 1024, 'cpu');
    manager.add('unet', unet, { collection: 'sdxl' });
    manager.add('vae', vae, { collection: 'sdxl', device: 'cpu' });
    manager.add('text_encoder', te, { collection: 'sdxl' });
    await manager.enableAutoOffload({ device: 'cuda', memoryBudget: 3 * 1024 * 1024 });
    // te lived on cpu, not the budget's device: offloaded to come back on cuda. vae is pinned to cpu: untouched.
    expect([unet.isResident, vae.isResident, te.isResident]).toEqual([true, true, false]);
    await manager.prepareForBlock([te, vae]);
    await te.run();
    await vae.run();
    expect([unet.isResident, vae.isResident, te.isResident, te.provider]).toEqual([false, true, true, 'cuda']);
    expect(manager.info('vae_2')).toMatchObject({ pinnedDevice: 'cpu', resident: true, device: 'cpu' });
    const lines = manager.summary().split('\n');
    expect(lines[1]).toBe('Auto offload: device cuda, budget 3.00 MiB, resident 1.00 MiB');
    expect(lines[2]).toBe('Name_ID        | Class     | Device           | Size     | State     | Load ID | Collection');
    expect(lines[4]).toBe('unet_1         | FakeModel | cuda             | 3.00 MiB | offloaded | N/A     | sdxl');
    expect(lines[5]).toBe('vae_2          | FakeModel | cpu (pinned cpu) | 2.00 MiB | loaded    | N/A     | sdxl');
    expect(lines[6]).toBe('text_encoder_3 | FakeModel | cuda             | 1.00 MiB | loaded    | N/A     | sdxl');
    expect(() => manager.setDevicePin('vae_2', 'npu')).toThrow(InvalidArgumentError);
    // Unpinning makes the VAE count: 1 MiB + 2 MiB fits 3 MiB, so nothing is evicted.
    manager.setDevicePin('vae_2', null);
    await manager.prepareForBlock([vae]);
    await vae.run();
    expect(vae.provider).toBe('cuda');
    expect([te.isResident, vae.isResident]).toEqual([true, true]);
  });

  it('offloads components added while auto offload is on as far as the budget needs', async () => {
    const { manager, events } = setup({});
    await manager.enableAutoOffload({ memoryBudget: 100 });
    const first = new FakeModel(70);
    const second = new FakeModel(60);
    manager.add('first', first);
    manager.add('second', second);
    await manager.prepareForBlock([]); // waits for the queued fitting
    // 130 > 100: first (70) or second (60) alone covers 30; the smaller is second.
    expect(events).toEqual(['offload:second']);
    expect(first.isResident).toBe(true);
  });

  it('makes a component without a residency hook resident when its block is prepared', async () => {
    const { manager, models, events } = setup({ big: 80 });
    const plain = Object.assign(new FakeModel(30), { setResidencyHook: undefined });
    manager.add('plain', plain);
    await manager.enableAutoOffload({ memoryBudget: 100 });
    expect(events).toEqual(['offload:plain']); // 110 > 100: plain (30) is the smaller single cover
    await manager.prepareForBlock([plain]);
    expect(events.slice(1)).toEqual(['offload:big', 'onload:plain']);
    expect(models.big!.isResident).toBe(false);
  });
});
