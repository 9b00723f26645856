import { describe, expect, test } from 'vitest';
import {
  RemoteCodeError,
  SandboxCrashedError,
  SandboxMemoryError,
  SandboxTimeoutError,
  createSandbox,
  type CreateSandboxOptions,
  type SandboxValue,
} from './index.js';
import { manualClock } from './sandbox-test-kit.test-helpers.js';

// Budgets far above the work (a few ms per entry), so a loaded machine never trips them; the tests
// about a budget running out use code that never ends, or a clock they advance themselves.
const limits = { memoryMb: 48, timeoutMs: 10_000, callTimeoutMs: 60_000 };
const bundle = (source: string, filename = 'plugin.js') => ({ source: `(() => {\n${source}\n})();`, filename });
const start = (source: string, extra: Partial<CreateSandboxOptions> = {}) =>
  createSandbox({ bundle: bundle(source), limits, ...extra });

describe('createSandbox: plugins that behave', () => {
  test('a block-like export calls runModel with a Float32Array and gets data back', async () => {
    const seen: SandboxValue[][] = [];
    const sb = await start(
      `
      class ScaleStep {
        constructor() { this.name = 'scale'; }
        async call(state) {
          const out = await capabilities.runModel('unet', { sample: state.latents });
          return { ...state, latents: out.out_sample, steps: state.steps + 1 };
        }
      }
      defineBlocks(1, () => ({ ScaleStep, step: new ScaleStep() }));`,
      {
        capabilities: {
          runModel: (component, feeds) => {
            seen.push([component, feeds]);
            const sample = (feeds as { sample: Float32Array }).sample;
            // out_sample = 0.5 * sample + 1, a fixed map so the expected numbers are exact.
            return { out_sample: sample.map((v) => 0.5 * v + 1) };
          },
        },
      },
    );
    const result = (await sb.call('step', 'call', { latents: new Float32Array([2, -4, 0.25]), steps: 3 })) as {
      latents: Float32Array;
      steps: number;
    };
    expect(result.latents).toBeInstanceOf(Float32Array);
    expect(Array.from(result.latents)).toEqual([2, -1, 1.125]);
    expect(result.steps).toBe(4);
    expect(seen[0][0]).toBe('unet');
    expect(Array.from((seen[0][1] as { sample: Float32Array }).sample)).toEqual([2, -4, 0.25]);
    const handle = await sb.construct('ScaleStep');
    expect(handle).toMatch(/^#\d+$/);
    const again = (await sb.call(handle, 'call', { latents: new Float32Array([0]), steps: 0 })) as { latents: Float32Array };
    expect(Array.from(again.latents)).toEqual([1]);
    await sb.dispose();
  });

  test('manifest describes exports; host libraries load first and reach the factory by name', async () => {
    const library = {
      name: '@test/math',
      source: `(() => { defineLibrary('@test/math', { twice: (x) => 2 * x, Base: class Base { hello() { return 'hi'; } } }); })();`,
    };
    const sb = await start(
      `
      const math = modularLibraries['@test/math'];
      class Step extends math.Base { run(x) { return math.twice(x); } }
      defineBlocks(1, (lib) => ({ Step, BLOCKS: { step: 'Step' }, double: (x) => lib['@test/math'].twice(x), version: 3 }));`,
      { libraries: [library] },
    );
    expect(sb.manifest()).toEqual({
      apiVersion: 1,
      manifestVersion: 1,
      exports: [
        { name: 'Step', type: 'class', methods: ['run', 'hello'] },
        { name: 'BLOCKS', type: 'object', methods: [] },
        { name: 'double', type: 'function', methods: [] },
        { name: 'version', type: 'value', methods: [] },
      ],
    });
    expect(await sb.call('double', null, 21)).toBe(42);
    await sb.dispose();
  });

  test('console output reaches onLog one line per call, control and bidi characters escaped', async () => {
    const logs: string[] = [];
    const sb = await start(
      `console.warn('loaded', 7, { toString() { return 'obj'; } }, '\\u001b[31mred');
       defineBlocks(1, () => ({ f: () => {
         console.error('called');
         // A forged second line, a carriage return over the prefix, and a Trojan-Source reordering.
         console.info('step 1 done\\n[host] INFO: all checks passed\\r[host]', 'abc\\u202edcba\\u2066x\\u2069', '\\u2028tail\\u0085');
         return 1;
       } }));`,
      { onLog: (level, message) => logs.push(`${level}:${message}`) },
    );
    await sb.call('f', null);
    expect(logs).toEqual([
      'warn:loaded 7 obj \\u001b[31mred',
      'error:called',
      'info:step 1 done\\n[host] INFO: all checks passed\\r[host] abc\\u202edcba\\u2066x\\u2069 \\u2028tail\\u0085',
    ]);
    for (const line of logs) expect(line).not.toMatch(/[\n\r\u2028\u2029\u0085\u202a-\u202e\u2066-\u2069\u001b]/);
    await sb.dispose();
  });
});

describe('createSandbox: plugins that fail', () => {
  test('a bundle that throws at load gives RemoteCodeError with its message and stack as strings', async () => {
    const error = await start(`function explode() { throw new TypeError('boom at load'); }\nexplode();`).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteCodeError);
    expect(error.remoteName).toBe('TypeError');
    expect(error.remoteMessage).toBe('boom at load');
    expect(error.message).toContain('boom at load');
    expect(typeof error.remoteStack).toBe('string');
    expect(error.remoteStack).toContain('plugin.js');
    expect(error.remoteCode).toBe('');
  });

  test("a thrown error's string code crosses as remoteCode (an engine error's kind), clipped like the other strings", async () => {
    const sb = await start(
      `defineBlocks(1, () => ({ b: { coded() { const e = new Error('bad size'); e.code = 'SDXL_INPUT'; throw e; }, long() { throw Object.assign(new Error('x'), { code: 'C'.repeat(500) }); }, odd() { throw Object.assign(new Error('y'), { code: 7 }); } } }));`,
    );
    const coded = await sb.call('b', 'coded').catch((e) => e);
    expect(coded).toBeInstanceOf(RemoteCodeError);
    expect([coded.code, coded.remoteCode, coded.remoteMessage]).toEqual(['SANDBOX_REMOTE_ERROR', 'SDXL_INPUT', 'bad size']);
    expect((await sb.call('b', 'long').catch((e) => e)).remoteCode).toBe('C'.repeat(200));
    expect((await sb.call('b', 'odd').catch((e) => e)).remoteCode).toBe('');
    await sb.dispose();
  });

  test('a syntax error, a missing defineBlocks and an API version mismatch are clear load errors', async () => {
    await expect(start('defineBlocks(1, () => ({ a: 1 }) ;; ) ')).rejects.toThrow(/SyntaxError/);
    await expect(start('const x = 1;')).rejects.toThrow(/never called defineBlocks/);
    await expect(start('defineBlocks(99, () => ({}));')).rejects.toThrow(/targets sandbox API version 99/);
  });

  test('a method that throws rejects with RemoteCodeError and the sandbox stays usable', async () => {
    const sb = await start(`defineBlocks(1, () => ({ b: { bad() { throw new RangeError('nope'); }, ok: () => 'fine' } }));`);
    await expect(sb.call('b', 'bad')).rejects.toThrow(/RangeError: nope/);
    await expect(sb.call('missing', 'x')).rejects.toThrow(/exports no "missing" \(it exports: b\)/);
    await expect(sb.call('b', 'absent')).rejects.toThrow(/has no method "absent"/);
    expect(await sb.call('b', 'ok')).toBe('fine');
    await sb.dispose();
  });

  test('a host capability error reaches the plugin as a message and the plugin may recover', async () => {
    const sb = await start(
      `defineBlocks(1, () => ({ f: async () => { try { await capabilities.load('x'); } catch (e) { return String(e.message); } } }));`,
      { capabilities: { load: () => { throw new Error('file not found: x'); } } },
    );
    expect(await sb.call('f', null)).toBe('capability "load" failed: file not found: x');
    await sb.dispose();
  });

  test('a bundle that never returns is stopped by its entry budget', async () => {
    const error = await start('while (true) {}', { limits: { ...limits, timeoutMs: 300 } }).catch((e) => e);
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    expect(error.limitMs).toBe(300);
  });

  test('a call that awaits forever hits callTimeoutMs (on an injected clock) and stops the sandbox', async () => {
    const clock = manualClock();
    let asked!: () => void;
    const inCapability = new Promise<void>((resolve) => (asked = resolve));
    const sb = await createSandbox({
      bundle: bundle(`defineBlocks(1, () => ({ f: () => capabilities.never() }));`),
      capabilities: { never: () => (asked(), new Promise<never>(() => {})) },
      limits: { ...limits, callTimeoutMs: 300 },
      clock,
    });
    const call = sb.call('f', null);
    await inCapability;
    clock.advance(299);
    expect(sb.alive).toBe(true);
    clock.advance(1);
    await expect(call).rejects.toBeInstanceOf(SandboxTimeoutError);
    expect(sb.alive).toBe(false);
    await expect(sb.call('f', null)).rejects.toBeInstanceOf(SandboxTimeoutError);
  });

  test('a memory bomb kills only the sandbox process; the host keeps working', async () => {
    // A generous CPU slice so that, even on a loaded machine, the heap limit is what stops it.
    const sb = await start(`defineBlocks(1, () => ({ bomb() { const a = []; for (;;) a.push({ i: a.length, s: 'x'.repeat(64) + a.length }); } }));`, {
      limits: { ...limits, timeoutMs: 30_000 },
    });
    const error = await sb.call('bomb', null).catch((e) => e);
    expect(error.message).toMatch(/48 MB heap limit/);
    expect(error).toBeInstanceOf(SandboxMemoryError);
    expect(sb.alive).toBe(false);
    const next = await start(`defineBlocks(1, () => ({ f: () => 'alive' }));`);
    expect(await next.call('f', null)).toBe('alive');
    await next.dispose();
  });

  test('dispose rejects later calls with SandboxCrashedError', async () => {
    const sb = await start(`defineBlocks(1, () => ({ f: () => 1 }));`);
    await sb.dispose();
    await expect(sb.call('f', null)).rejects.toBeInstanceOf(SandboxCrashedError);
  });

  test('bad arguments from the host are refused before anything is sent', async () => {
    const sb = await start(`defineBlocks(1, () => ({ f: (x) => x }));`);
    await expect(sb.call('f', null, (() => 1) as unknown as SandboxValue)).rejects.toThrow(/function; only JSON values/);
    expect(await sb.call('f', null, { a: [1, null, 'x'] })).toEqual({ a: [1, null, 'x'] });
    await sb.dispose();
  });
});
