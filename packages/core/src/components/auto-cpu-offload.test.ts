import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { MemoryLogger } from '../logger.js';
import { ComponentsManager } from './components-manager.js';
import { FakeModel } from './fake-offloadable.test-helpers.js';

describe("ComponentsManager.enableAutoCpuOffload (diffusers' enable_auto_cpu_offload)", () => {
  it('without a budget, sizes it to the largest model so one model at a time is resident', async () => {
    const manager = new ComponentsManager(new MemoryLogger());
    const te = new FakeModel(40);
    const unet = new FakeModel(100);
    manager.add('text_encoder', te);
    manager.add('unet', unet);
    manager.add('tokenizer', { vocab: 1 });
    await manager.enableAutoCpuOffload({ device: 'cpu' });
    expect(manager.autoOffload).toEqual({ device: 'cpu', memoryBudgetBytes: 100, overBudget: 'throw' });
    await te.run();
    await unet.run();
    // The UNet needs the whole budget: the text encoder was offloaded to make room.
    expect([te.isResident, unet.isResident]).toEqual([false, true]);
  });

  it('takes an explicit budget as enableAutoOffload does, and explains what to do before anything is loaded', async () => {
    const manager = new ComponentsManager(new MemoryLogger());
    await expect(manager.enableAutoCpuOffload()).rejects.toThrow(InvalidArgumentError);
    await expect(manager.enableAutoCpuOffload()).rejects.toThrow(/load the components first .* or pass \{ memoryBudget \}/);
    manager.add('unet', new FakeModel(100));
    await manager.enableAutoCpuOffload({ memoryBudget: '1KB' });
    expect(manager.autoOffload?.memoryBudgetBytes).toBe(1000);
  });
});
