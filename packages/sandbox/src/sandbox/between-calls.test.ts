/**
 * A plugin gets the host's attention only while one of the host's calls is waiting on it. Work it
 * leaves going past its call (a chain of capability calls, log lines queued after the return) is
 * not served: the sandbox is stopped with SandboxOutOfTurnError, naming the bundle, and the host
 * keeps its event loop. The lag is measured and reported, never compared with a wall-clock budget.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { MAX_LOG_LINES_PER_CALL, SandboxOutOfTurnError, createSandbox, type CreateSandboxOptions, type SandboxError } from './index.js';

const limits = { memoryMb: 48, timeoutMs: 10_000, callTimeoutMs: 60_000 };

async function start(body: string, extra: Partial<CreateSandboxOptions> = {}) {
  const logs: string[] = [];
  let served = 0;
  let stopped!: (error: SandboxError) => void;
  const stop = new Promise<SandboxError>((resolve) => (stopped = resolve));
  const sandbox = await createSandbox({
    bundle: { source: `(() => { defineBlocks(1, () => ({ ${body} })); })();`, filename: 'hf://mallory/busy@0123/block.js' },
    capabilities: {
      ping: () => {
        served += 1;
        return served;
      },
    },
    limits,
    onLog: (level, message) => logs.push(`${level}:${message}`),
    onStop: stopped,
    ...extra,
  });
  return { sandbox, logs, served: () => served, stop };
}

/** Event-loop delay and turns of the host loop while `during` runs. */
async function hostLoop<T>(during: () => Promise<T>): Promise<{ value: T; maxLagMs: number; meanLagMs: number; turns: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let turns = 0;
  let counting = true;
  const count = () => {
    turns += 1;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  try {
    const value = await during();
    return { value, maxLagMs: histogram.max / 1e6, meanLagMs: histogram.mean / 1e6, turns };
  } finally {
    counting = false;
    histogram.disable();
  }
}

describe('between calls the sandbox gets nothing', () => {
  test('a chain of capability calls left going after the call returned is stopped and named', async ({ annotate }) => {
    const { sandbox, logs, served, stop } = await start(`
      f: () => {
        (async () => { for (;;) { await capabilities.ping(); console.log('still here'); } })();
        return 'returned';
      }`);
    const { value: error, maxLagMs, meanLagMs, turns } = await hostLoop(async () => {
      expect(await sandbox.call('f', null)).toBe('returned');
      return stop;
    });
    await annotate(`host event loop while the plugin was stopped: max lag ${maxLagMs.toFixed(1)} ms, mean ${meanLagMs.toFixed(1)} ms, ${turns} turns`);
    expect(error).toBeInstanceOf(SandboxOutOfTurnError);
    expect(error.message).toContain('hf://mallory/busy@0123/block.js');
    expect(error.message).toMatch(/capability "ping" it had asked for was still running/);
    // The one request made during the call was served; its answer was never delivered, so the chain never ran on.
    expect(served()).toBe(1);
    expect(logs).toEqual([]);
    expect(sandbox.alive).toBe(false);
    await expect(sandbox.call('f', null)).rejects.toBe(error);
  });

  test('log lines and capability requests queued after the return are refused, not taken', async () => {
    const late = await start(`
      f: () => {
        Promise.resolve().then(() => 0).then(() => 0).then(() => 0).then(() => { for (let i = 0; i < 1000; i += 1) console.log('forged ' + i); });
        return 1;
      }`);
    expect(await late.sandbox.call('f', null)).toBe(1);
    const logError = await late.stop;
    expect(logError).toBeInstanceOf(SandboxOutOfTurnError);
    expect(logError.message).toMatch(/it logged after its call had returned/);
    expect(late.logs).toEqual([]);

    const asks = await start(`
      f: () => {
        Promise.resolve().then(() => 0).then(() => 0).then(() => 0).then(() => { capabilities.ping(); });
        return 1;
      }`);
    expect(await asks.sandbox.call('f', null)).toBe(1);
    const askError = await asks.stop;
    expect(askError.message).toMatch(/it asked for capability "ping" after its call had returned/);
    expect(asks.served()).toBe(0);
  });

  test('work that ends with its call is served in full, however much of it there is', async () => {
    const { sandbox, logs, served } = await start(`
      f: async () => {
        const all = [];
        for (let i = 0; i < 50; i += 1) { all.push(capabilities.ping()); console.log('step ' + i); }
        await Promise.all(all);
        return 'done';
      }`);
    expect(await sandbox.call('f', null)).toBe('done');
    expect(await sandbox.call('f', null)).toBe('done');
    expect(served()).toBe(100);
    expect(logs).toHaveLength(100);
    expect(sandbox.alive).toBe(true);
    await sandbox.dispose();
  });

  test('one call takes at most MAX_LOG_LINES_PER_CALL log lines, across all its entries', async () => {
    const { sandbox, logs } = await start(`
      f: async () => {
        for (let round = 0; round < 15; round += 1) {
          for (let i = 0; i < 1000; i += 1) console.log('line');
          await capabilities.ping();
        }
        return 'done';
      }`);
    expect(await sandbox.call('f', null)).toBe('done');
    expect(logs).toHaveLength(MAX_LOG_LINES_PER_CALL);
    expect(logs.at(-1)).toBe(`warn:further log lines of this call are dropped (more than ${MAX_LOG_LINES_PER_CALL})`);
    // The next call has a budget of its own.
    logs.length = 0;
    await sandbox.call('f', null);
    expect(logs).toHaveLength(MAX_LOG_LINES_PER_CALL);
    await sandbox.dispose();
  });
});
